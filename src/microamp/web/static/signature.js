// The drawn signature of the pre-visit form: strokes on the canvas by finger, pen or mouse,
// kept as a PNG in the form's hidden "signature" field after every stroke. Whoever cannot
// draw signs instead by typing her name and ticking the box beside the canvas.
(function () {
  "use strict";
  var canvas = document.getElementById("signature-pad");
  var field = document.getElementById("signature");
  var clear = document.getElementById("signature-clear");
  if (!canvas || !field || !canvas.getContext) {
    return;
  }
  var context = canvas.getContext("2d");
  var drawing = false;
  var drawn = false;
  context.lineWidth = 3;
  context.lineCap = "round";
  context.lineJoin = "round";
  context.strokeStyle = "#111";

  function point(event) {
    var box = canvas.getBoundingClientRect();
    return {
      x: (event.clientX - box.left) * (canvas.width / box.width),
      y: (event.clientY - box.top) * (canvas.height / box.height)
    };
  }

  canvas.addEventListener("pointerdown", function (event) {
    event.preventDefault();
    drawing = true;
    canvas.setPointerCapture(event.pointerId);
    var at = point(event);
    context.beginPath();
    context.moveTo(at.x, at.y);
  });
  canvas.addEventListener("pointermove", function (event) {
    if (!drawing) {
      return;
    }
    var at = point(event);
    context.lineTo(at.x, at.y);
    context.stroke();
    drawn = true;
  });
  function finish() {
    if (!drawing) {
      return;
    }
    drawing = false;
    if (drawn) {
      field.value = canvas.toDataURL("image/png");
    }
  }
  canvas.addEventListener("pointerup", finish);
  canvas.addEventListener("pointercancel", finish);
  if (clear) {
    clear.addEventListener("click", function () {
      context.clearRect(0, 0, canvas.width, canvas.height);
      drawn = false;
      field.value = "";
    });
  }
})();
