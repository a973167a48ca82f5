// The browser recorder shared by the message page, the browser phone and the polls page. Each page includes
// it inside its one nonce'd script (the CSP runs nothing else), so `hotlineRecorder` stays local to that script.
// MediaRecorder takes the microphone; a take is turned into 16-bit PCM WAV, 16 kHz mono, which every upload
// route accepts and converts to 8 kHz telephone audio itself.
var hotlineRecorder = (function () {
  var RATE = 16000;
  var CANNOT = "This browser cannot record; upload a file instead.";

  function supported() {
    return !!(window.MediaRecorder && navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
  }

  function encode(buffer) {  // the first channel as a RIFF/WAVE file, 16-bit little-endian PCM
    var data = buffer.getChannelData(0), rate = buffer.sampleRate, out = new DataView(new ArrayBuffer(44 + data.length * 2));
    function text(at, s) { for (var i = 0; i < s.length; i++) { out.setUint8(at + i, s.charCodeAt(i)); } }
    text(0, "RIFF"); out.setUint32(4, 36 + data.length * 2, true); text(8, "WAVE"); text(12, "fmt ");
    out.setUint32(16, 16, true); out.setUint16(20, 1, true); out.setUint16(22, 1, true); out.setUint32(24, rate, true);
    out.setUint32(28, rate * 2, true); out.setUint16(32, 2, true); out.setUint16(34, 16, true); text(36, "data");
    out.setUint32(40, data.length * 2, true);
    for (var i = 0; i < data.length; i++) { var s = Math.max(-1, Math.min(1, data[i])); out.setInt16(44 + i * 2, s < 0 ? s * 0x8000 : s * 0x7fff, true); }
    return new Blob([out], {type: "audio/wav"});
  }

  async function toWav(blob) {  // a MediaRecorder take (WebM/Opus, Ogg...) as WAV, decoded by the browser itself
    var context = new AudioContext(), decoded;
    try { decoded = await context.decodeAudioData(await blob.arrayBuffer()); } finally { context.close(); }
    var offline = new OfflineAudioContext(1, Math.max(1, Math.ceil(decoded.duration * RATE)), RATE);
    var source = offline.createBufferSource(); source.buffer = decoded; source.connect(offline.destination); source.start();
    return encode(await offline.startRendering());
  }

  // Record from the microphone until stop() or maxSeconds; done(blob) receives the take. Rejects with
  // "No microphone: ..." when there is none or the person refused it.
  async function start(maxSeconds, done) {
    var stream;
    try { stream = await navigator.mediaDevices.getUserMedia({audio: true}); }
    catch (e) { throw new Error("No microphone: " + (e.message || e.name)); }
    var chunks = [], mic = new MediaRecorder(stream), timer = null;
    mic.ondataavailable = function (e) { if (e.data.size) { chunks.push(e.data); } };
    mic.onstop = function () {
      clearTimeout(timer);
      stream.getTracks().forEach(function (t) { t.stop(); });
      done(new Blob(chunks, {type: mic.mimeType}));
    };
    mic.start();
    timer = setTimeout(function () { if (mic.state === "recording") { mic.stop(); } }, maxSeconds * 1000);
    return {stop: function () { clearTimeout(timer); if (mic.state !== "inactive") { mic.stop(); } }};
  }

  // Post a form as the in-page recorder: the server answers a status and a plain-text reason (or where to go).
  async function send(url, form) {
    var resp = await fetch(url, {method: "POST", body: form, credentials: "same-origin",
                                 headers: {"X-Requested-With": "recorder"}});
    var body = await resp.text();
    if ((resp.headers.get("Content-Type") || "").indexOf("text/plain") !== 0) {
      body = "The server refused it (HTTP " + resp.status + "); reload the page and try again.";
    }
    return {status: resp.status, text: body};
  }

  return {supported: supported, start: start, toWav: toWav, send: send, cannot: CANNOT};
})();
