// Standardised capture: the camera (getUserMedia) under a ghost of an earlier photo of this
// view, so the face is lined up at the same size and place. A captured frame goes to the
// server, which measures it: a head turned or tilted past tolerance, or nearer or farther than
// the first photo, comes back "retake" with the reason, and nothing is kept.
// A form with data-capture-review (the home app's progress photo) holds the frame first: the
// picture stops on it, and Retake goes back to the live camera while Save sends it. A form with
// data-capture-queue (the home app's too) keeps a frame it cannot send on the phone, where
// home-photos.js sends it when the phone is back online; her agreement is checked here first.
(function () {
  "use strict";
  const form = document.querySelector("[data-capture-form]");
  if (!form) return;
  const box = form.querySelector("[data-camera]");
  const video = form.querySelector("[data-camera-video]");
  const start = form.querySelector("[data-camera-start]");
  const shoot = form.querySelector("[data-camera-capture]");
  const retake = form.querySelector("[data-camera-retake]");
  const save = form.querySelector("[data-camera-save]");
  const status = form.querySelector("[data-capture-status]");
  const review = form.hasAttribute("data-capture-review");
  const queued = form.hasAttribute("data-capture-queue");
  const ghost = form.querySelector("[data-camera-ghost]");
  let held = null;

  function say(text) {
    status.textContent = text;
  }

  // offline, the ghost (her photo, never kept on the phone) cannot load: no broken image
  if (ghost) {
    if (ghost.complete && !ghost.naturalWidth) ghost.hidden = true;
    ghost.addEventListener("error", function () { ghost.hidden = true; });
  }

  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    start.hidden = true;
    say("This browser offers no camera here: choose a photo file instead.");
    return;
  }

  // why the camera did not open, the field first, as a refused form field reads
  function refusal(error) {
    if (error.name === "NotAllowedError" || error.name === "SecurityError") {
      return "Camera: permission refused (" + error.name + "). Allow the camera for this site " +
        "in the browser's settings, or choose a photo file instead.";
    }
    if (error.name === "NotFoundError" || error.name === "OverconstrainedError") {
      return "Camera: none found on this device (" + error.name + "): choose a photo file instead.";
    }
    return "Camera: could not be opened (" + error.name + "): choose a photo file instead.";
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
      say("Camera on: line the face up with the ghost, then " +
          (review ? "take the photo." : "capture."));
    } catch (error) {
      say(refusal(error));
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

  function reviewing(on) {
    shoot.hidden = on;
    retake.hidden = !on;
    save.hidden = !on;
  }

  async function send(blob, button) {
    // offline, the frame is kept on the phone (home-photos.js), her agreement checked first
    const keeps = queued && window.microampPhotoQueue;
    if (keeps && !navigator.onLine) return keeps.keepFromForm(form, blob);
    button.disabled = true;
    say("Measuring the frame…");
    try {
      const body = new FormData(form);
      body.set("photo", blob, "capture.jpg");
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
        return true;
      }
      const named = answer.label ? answer.label + ": " : "";
      say("Not kept: " + named + (answer.retake || "the frame was refused") + ".");
    } catch (error) {
      // no answer (the network went on the way): kept on the phone where it can be
      if (keeps) return keeps.keepFromForm(form, blob);
      say("The frame could not be sent: " + error.message);
    } finally {
      button.disabled = false;
    }
    return false;
  }

  shoot.addEventListener("click", async function () {
    if (!video.videoWidth) {
      say("The camera has not started yet: wait a moment.");
      return;
    }
    if (!review) {
      await send(await frame(), shoot);
      return;
    }
    held = await frame();
    video.pause();
    reviewing(true);
    say("Photo taken: save it, or retake it.");
  });

  if (review) {
    retake.addEventListener("click", function () {
      held = null;
      video.play();
      reviewing(false);
      say("Camera on: line the face up with the ghost, then take the photo.");
    });
    save.addEventListener("click", async function () {
      if (held && (await send(held, save))) {
        held = null;
        save.hidden = true;
        retake.textContent = "Take another";
      }
    });
  }
})();
