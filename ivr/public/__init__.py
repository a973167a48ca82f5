"""What anyone may see: the accountability page and open data, aggregated, small groups hidden."""
