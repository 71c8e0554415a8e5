// A form posted by htmx and sent back with its errors (422) or a conflict (409) is swapped in
// like any answer: the error summary it carries takes the focus (htmx focuses [autofocus]).
(function () {
  "use strict";
  document.addEventListener("htmx:beforeSwap", function (event) {
    const status = event.detail.xhr.status;
    if (status === 422 || status === 409) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();
