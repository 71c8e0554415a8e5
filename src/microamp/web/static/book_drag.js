// Drag on the book's grid: a visit ([data-visit]) dragged by the mouse, pen or finger onto
// another cell ([data-start], with its data-room or data-practitioner) moves there; its lower
// edge ([data-resize]) dragged down or up changes its end to the end of the row it is let go
// on. On its grip button the arrow keys do the same: up and down 15 minutes, left and right
// to the next column, Shift with up or down the end. Every drop is posted to
// /book/ID/drop, where the one booking rule decides: the page is read again when the visit
// moved, and a refusal is said in the status line with its reason while the visit stays
// where it was (nothing on the page moved before the server agreed).
(function () {
  "use strict";
  var grid = document.querySelector("[data-drop-grid]");
  var status = document.getElementById("drop-status");
  if (!grid || !status) return;
  var STEP_MIN = 15;
  var THRESHOLD_PX = 4;
  var drag = null;

  function token() {
    return grid.dataset.csrf || "";
  }

  function minutesOf(stamp) {
    var clock = stamp.slice(11, 16).split(":");
    return Number(clock[0]) * 60 + Number(clock[1]);
  }

  function cellAt(x, y) {
    var found = document.elementFromPoint(x, y);
    var cell = found && found.closest("td[data-start]");
    return cell && grid.contains(cell) ? cell : null;
  }

  function say(text) {
    status.textContent = text;
  }

  function post(card, fields) {
    var body = new FormData();
    body.append("csrf_token", token());
    Object.keys(fields).forEach(function (name) {
      if (fields[name] !== undefined && fields[name] !== null) body.append(name, fields[name]);
    });
    say("Moving " + card.dataset.client + "…");
    fetch("/book/" + card.dataset.visit + "/drop", {
      method: "POST", body: body, credentials: "same-origin", headers: { "Accept": "application/json" }
    }).then(function (answer) {
      return answer.json().then(function (data) { return { ok: answer.ok, data: data }; });
    }).then(function (result) {
      if (result.ok) {
        sessionStorage.setItem("book-moved", "Moved: " + card.dataset.client + ", now " +
          result.data.start.slice(0, 10) + " " + result.data.span + " (" +
          (result.data.room || "") + ", " + (result.data.practitioner || "") + ").");
        sessionStorage.setItem("book-focus", card.dataset.visit);
        window.location.reload();
      } else {
        say("Not moved: " + card.dataset.client + " stays at " + card.dataset.span + ". " +
          (result.data.reason || "The book refused the change") + ".");
      }
    }).catch(function () {
      say("Not moved: the book could not be reached; " + card.dataset.client + " stays at " +
        card.dataset.span + ".");
    });
  }

  // where a card lands: the cell's start, and its room or practitioner when the column has one
  function moveFields(card, cell) {
    return {
      start: cell.dataset.start,
      room_id: cell.dataset.room || null,
      practitioner_id: cell.dataset.practitioner || null
    };
  }

  function resizeFields(card, cell) {
    var start = card.dataset.start;
    var minutes = minutesOf(cell.dataset.start) + STEP_MIN - minutesOf(start);
    return { start: start, duration_min: String(Math.max(STEP_MIN, minutes)) };
  }

  function mark(cell) {
    if (drag.over === cell) return;
    if (drag.over) drag.over.classList.remove("drop-target");
    drag.over = cell;
    if (cell) cell.classList.add("drop-target");
  }

  function reset() {
    if (!drag) return;
    drag.card.classList.remove("dragging");
    drag.card.style.transform = "";
    mark(null);
    drag = null;
  }

  grid.addEventListener("pointerdown", function (event) {
    var card = event.target.closest("[data-visit]");
    if (!card || event.button !== 0) return;
    var resize = event.target.closest("[data-resize]");
    if (!resize && event.target.closest("a, button:not([data-grip]), input, select, form")) return;
    event.preventDefault();
    drag = { card: card, resize: !!resize, x: event.clientX, y: event.clientY, moved: false,
      from: card.closest("td[data-start]"), over: null };
  });

  document.addEventListener("pointermove", function (event) {
    if (!drag) return;
    var dx = event.clientX - drag.x, dy = event.clientY - drag.y;
    if (!drag.moved && Math.abs(dx) + Math.abs(dy) < THRESHOLD_PX) return;
    drag.moved = true;
    drag.card.classList.add("dragging");
    if (!drag.resize) drag.card.style.transform = "translate(" + dx + "px, " + dy + "px)";
    mark(cellAt(event.clientX, event.clientY));
  });

  function drop(event) {
    if (!drag) return;
    var current = drag;
    var cell = current.moved ? cellAt(event.clientX, event.clientY) : null;
    reset();
    if (!cell) return;
    if (current.resize) {
      post(current.card, resizeFields(current.card, cell));
    } else if (cell !== current.from) {
      post(current.card, moveFields(current.card, cell));
    }
  }
  document.addEventListener("pointerup", drop);
  document.addEventListener("pointercancel", function () { reset(); });

  // the arrow keys on a visit's grip: the neighbouring cell, or one row more or less of length
  function neighbour(cell, key) {
    var row = cell.parentElement;
    var index = Array.prototype.indexOf.call(row.children, cell);
    if (key === "ArrowLeft" || key === "ArrowRight") {
      var side = key === "ArrowLeft" ? cell.previousElementSibling : cell.nextElementSibling;
      return side && side.matches("td[data-start]") ? side : null;
    }
    var next = key === "ArrowUp" ? row.previousElementSibling : row.nextElementSibling;
    var target = next && next.children[index];
    return target && target.matches("td[data-start]") ? target : null;
  }

  function endCell(card, cell, key) {
    var rows = Math.round(Number(card.dataset.minutes) / STEP_MIN) - 1 + (key === "ArrowDown" ? 1 : -1);
    var row = cell.parentElement, index = Array.prototype.indexOf.call(row.children, cell);
    for (var i = 0; i < rows && row; i++) row = row.nextElementSibling;
    var target = row && row.children[index];
    return rows >= 0 && target && target.matches("td[data-start]") ? target : null;
  }

  grid.addEventListener("keydown", function (event) {
    var grip = event.target.closest("[data-grip]");
    if (!grip || ["ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight"].indexOf(event.key) < 0) return;
    var card = grip.closest("[data-visit]"), cell = card.closest("td[data-start]");
    event.preventDefault();
    if (event.shiftKey && (event.key === "ArrowUp" || event.key === "ArrowDown")) {
      var end = endCell(card, cell, event.key);
      if (end) post(card, resizeFields(card, end));
      else say("Not changed: " + card.dataset.client + " cannot be made shorter or longer from here.");
      return;
    }
    var target = neighbour(cell, event.key);
    if (target) post(card, moveFields(card, target));
    else say("Not moved: there is no slot that way on this page.");
  });

  // after a move the page is read again: say what moved, and give the focus back to it
  var moved = sessionStorage.getItem("book-moved");
  var focus = sessionStorage.getItem("book-focus");
  sessionStorage.removeItem("book-moved");
  sessionStorage.removeItem("book-focus");
  if (moved) say(moved);
  if (focus) {
    var grip = grid.querySelector('[data-visit="' + focus + '"] [data-grip]');
    if (grip) grip.focus();
  }
})();
