// A button with data-copy="<id>" copies the value (or text) of the element with that id, and says so.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const source = document.getElementById(button.dataset.copy);
  const text = "value" in source ? source.value : source.textContent;
  const said = button.querySelector("[data-copy-label]") || button;
  navigator.clipboard.writeText(text).then(
    () => { said.textContent = "Copied"; },
    () => { source.select?.(); said.textContent = "Press Ctrl+C to copy"; },
  );
});
