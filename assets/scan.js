// Reading a code from its QR, in the browser: with the phone's camera, or from a photo of
// it. What is read fills the form's box and sends the form; typing the code stays possible.
// The page marks the place with data-scan-form (the form's id) and data-scan-field.
(function () {
  var box = document.querySelector("[data-scan-form]");
  if (!box || !window.jsQR) return;
  var form = document.getElementById(box.getAttribute("data-scan-form"));
  var input = form && form.querySelector("[name=" + box.getAttribute("data-scan-field") + "]");
  var status = box.querySelector("[data-scan-status]");
  if (!input) return;

  function say(text) { status.textContent = text; }

  // Reads one picture; true when it held a code and the form went.
  function read(source, w, h) {
    if (!w || !h) return false;
    var canvas = document.createElement("canvas");
    canvas.width = w;
    canvas.height = h;
    var g = canvas.getContext("2d");
    g.drawImage(source, 0, 0, w, h);
    var found = jsQR(g.getImageData(0, 0, w, h).data, w, h);
    if (!found || !found.data.trim()) return false;
    input.value = found.data.trim();
    if (form.requestSubmit) form.requestSubmit(); else form.submit();
    return true;
  }

  var camera = box.querySelector("[data-scan-camera]");
  var video = box.querySelector("video");
  if (navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
    camera.hidden = false;
    camera.addEventListener("click", function () {
      navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (stream) {
        video.srcObject = stream;
        video.hidden = false;
        video.play();
        say(box.getAttribute("data-aim"));
        (function look() {
          if (video.readyState >= 2 && read(video, video.videoWidth, video.videoHeight)) {
            stream.getTracks().forEach(function (t) { t.stop(); });
            return;
          }
          requestAnimationFrame(look);
        })();
      }, function () { say(box.getAttribute("data-no-camera")); });
    });
  }

  box.querySelector("input[type=file]").addEventListener("change", function (e) {
    var file = e.target.files[0];
    if (!file) return;
    var img = new Image();
    img.onload = function () {
      if (!read(img, img.naturalWidth, img.naturalHeight)) say(box.getAttribute("data-not-found"));
      URL.revokeObjectURL(img.src);
    };
    img.src = URL.createObjectURL(file);
  });
})();
