// Schema editor helpers.
// - Tab inserts two spaces in a code textarea; Esc first lets the next Tab leave the editor as usual, so
//   keyboard users are never trapped.
// - A problem that names a line ("line 4, column 3: ...") selects that line in the editor when clicked.
(function () {
  "use strict";
  let leaving = false;

  document.addEventListener("keydown", function (event) {
    const area = event.target;
    if (!(area instanceof HTMLTextAreaElement) || !area.classList.contains("code")) return;
    if (event.key === "Escape") { leaving = true; return; }
    if (event.key !== "Tab" || event.shiftKey || event.ctrlKey || event.altKey || event.metaKey || leaving) {
      leaving = false;
      return;
    }
    event.preventDefault();
    area.setRangeText("  ", area.selectionStart, area.selectionEnd, "end");
    area.dispatchEvent(new Event("input", { bubbles: true }));
  });

  document.addEventListener("click", function (event) {
    const item = event.target.closest("[data-line-pointers] li");
    const area = document.getElementById("id_text");
    const match = item && area && /\bline (\d+)/.exec(item.textContent);
    if (!match) return;
    const lines = area.value.split("\n");
    const index = Math.min(Number(match[1]), lines.length) - 1;
    const start = lines.slice(0, index).reduce((sum, line) => sum + line.length + 1, 0);
    area.focus();
    area.setSelectionRange(start, start + lines[index].length);
    const lineHeight = parseFloat(getComputedStyle(area).lineHeight) || 18;
    area.scrollTop = Math.max(0, (index - 3) * lineHeight);
  });
})();
