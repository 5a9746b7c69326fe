// mediaplane console: the little that needs a script. Every page works without it.
"use strict";

function copyFrom(button) {
  const target = document.getElementById(button.dataset.copy);
  const status = button.parentElement.querySelector(".copy-status");
  const say = (text) => { if (status) status.textContent = text; };
  const text = target.textContent.trim();
  const selectIt = () => {
    const range = document.createRange();
    range.selectNodeContents(target);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(
      () => say("Copied."),
      () => { selectIt(); say("Selected: press Ctrl+C (or ⌘C) to copy."); },
    );
  } else {
    selectIt();
    say("Selected: press Ctrl+C (or ⌘C) to copy.");
  }
}

document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("button[data-copy]")) {
    button.addEventListener("click", () => copyFrom(button));
  }
  // After a refused form, start where the first problem is.
  const invalid = document.querySelector("[aria-invalid='true']");
  if (invalid) invalid.focus();
});
