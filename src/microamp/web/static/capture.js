// Standardised capture: the camera (getUserMedia) under a ghost of the client's first photo of
// this view, so the face is lined up at the same size and place. A captured frame goes to the
// server, which measures it: a head turned or tilted past tolerance, or nearer or farther than
// the first photo, comes back "retake" with the reason, and nothing is kept.
(function () {
  "use strict";
  const form = document.querySelector("[data-capture-form]");
  if (!form) return;
  const box = form.querySelector("[data-camera]");
  const video = form.querySelector("[data-camera-video]");
  const start = form.querySelector("[data-camera-start]");
  const shoot = form.querySelector("[data-camera-capture]");
  const status = form.querySelector("[data-capture-status]");

  function say(text) {
    status.textContent = text;
  }

  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    start.hidden = true;
    say("This browser offers no camera here: choose a photo file instead.");
    return;
  }

  start.addEventListener("click", async function () {
    try {
      const stream = await navigator.mediaDevices.getUserMedia({
        video: { width: { ideal: 1920 }, height: { ideal: 1080 }, facingMode: "user" },
        audio: false,
      });
      video.srcObject = stream;
      box.hidden = false;
      shoot.hidden = false;
      start.hidden = true;
      say("Camera on: line the face up with the ghost, then capture.");
    } catch (error) {
      say("The camera could not be opened (" + error.name + "): choose a photo file instead.");
    }
  });

  function frame() {
    const canvas = document.createElement("canvas");
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext("2d").drawImage(video, 0, 0);
    return new Promise(function (resolve) {
      canvas.toBlob(resolve, "image/jpeg", 0.92);
    });
  }

  shoot.addEventListener("click", async function () {
    if (!video.videoWidth) {
      say("The camera has not started yet: wait a moment.");
      return;
    }
    shoot.disabled = true;
    say("Measuring the frame…");
    try {
      const body = new FormData(form);
      body.set("photo", await frame(), "capture.jpg");
      const response = await fetch(form.action, {
        method: "POST",
        body: body,
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      const answer = await response.json();
      if (response.status === 201) {
        say("Kept (quality " + answer.quality + "). Brow height right " +
            answer.measures.brow_height_right_mm + " mm, left " +
            answer.measures.brow_height_left_mm + " mm.");
        form.dataset.kept = String(answer.entry_id);
      } else {
        say("Not kept: " + (answer.retake || "the frame was refused") + ".");
      }
    } catch (error) {
      say("The frame could not be sent: " + error.message);
    } finally {
      shoot.disabled = false;
    }
  });
})();
