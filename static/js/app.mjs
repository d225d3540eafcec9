// Start the NHS.UK frontend components on every page.
import { initAll } from "../nhsuk/nhsuk-frontend.min.js";

document.body.classList.add("js-enabled", "nhsuk-frontend-supported");
initAll();

// A page showing a background job (data-poll-url) checks on it every two seconds and
// reloads once it has finished; without JavaScript the page offers a refresh link.
for (const panel of document.querySelectorAll("[data-poll-url]")) {
  const message = panel.querySelector("[data-poll-message]");
  const check = async () => {
    try {
      const response = await fetch(panel.dataset.pollUrl, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (response.ok) {
        const state = await response.json();
        if (state.stale || (state.status !== "queued" && state.status !== "building")) {
          window.location.reload();
          return;
        }
        if (message && state.status === "building" && state.steps_total) {
          message.textContent = `Building: ${state.steps_done} of ${state.steps_total} sheets written.`;
        }
      }
    } catch (error) {
      // A dropped connection: try again on the next tick.
    }
    window.setTimeout(check, 2000);
  };
  window.setTimeout(check, 2000);
}
