// Copy buttons of one-time secrets: the clipboard API where the page may use it; otherwise the text is
// selected, so Ctrl+C (or the context menu) copies it. Only the button's target is ever copied.
(function () {
  "use strict";

  function selectText(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function say(button, text) {
    var note = document.getElementById(button.getAttribute("aria-describedby"));
    if (note) { note.textContent = text; }
  }

  function copy(button) {
    var target = document.getElementById(button.dataset.copy);
    if (!target) { return; }
    var text = target.textContent.trim();
    var fallback = function () {
      selectText(target);
      say(button, "Selected: press Ctrl+C (⌘C) to copy.");
    };
    if (!navigator.clipboard || !window.isSecureContext) { fallback(); return; }
    navigator.clipboard.writeText(text).then(function () {
      button.textContent = "Copied";
      say(button, "Copied to the clipboard.");
    }, fallback);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-copy]");
    if (button) { copy(button); }
  });
})();
