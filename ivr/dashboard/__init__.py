"""Officials and admins: login, inbox, message page, answers, notes, audit and accountability pages."""
