// A treatment-note template picked from a <select data-note-template="ID"> adds its text (the
// option's data-body) to the textarea of that id, after what is written already, and moves the
// focus there to fill it in. Nothing is lost: the notes typed stay.
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    const select = event.target;
    if (!(select instanceof HTMLSelectElement) || !select.dataset.noteTemplate) return;
    const option = select.selectedOptions[0];
    const notes = document.getElementById(select.dataset.noteTemplate);
    if (!option || !option.dataset.body || !(notes instanceof HTMLTextAreaElement)) return;
    const before = notes.value.replace(/\s+$/, "");
    notes.value = before ? before + "\n\n" + option.dataset.body : option.dataset.body;
    select.value = "";
    notes.focus();
    notes.setSelectionRange(notes.value.length, notes.value.length);
  });
})();
