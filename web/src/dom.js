// Small DOM helpers shared by the views: elements, formatting, field errors, navigation.

/**
 * An element with properties and children (strings become text: never parsed as HTML).
 * @param {string} tag @param {Record<string, any>} [props] @param {...(Node|string)} children
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (name === "dataset") Object.assign(node.dataset, value);
    else if (name in node) /** @type {any} */ (node)[name] = value;
    else node.setAttribute(name, String(value));
  }
  node.append(...children);
  return node;
}

/** Go to a path of the page without reloading it. @param {string} path */
export function navigate(path) {
  history.pushState(null, "", path);
  window.dispatchEvent(new PopStateEvent("popstate"));
}

/** Epoch ms as `YYYY-MM-DD HH:MM` UTC. @param {number | null | undefined} ms */
export function utc(ms) {
  if (ms == null) return "";
  return new Date(ms).toISOString().slice(0, 16).replace("T", " ");
}

/** A number for a person: fixed decimals, or "" for null. */
export function num(/** @type {number | null | undefined} */ value, digits = 2) {
  return value == null ? "" : Number(value).toFixed(digits);
}

/** Epoch ms <-> the value of an `<input type="datetime-local">`, read as UTC. */
export const toLocalInput = (/** @type {number} */ ms) => new Date(ms).toISOString().slice(0, 16);
export const fromLocalInput = (/** @type {string} */ value) => (value
  ? Date.parse(`${value}:00Z`) : NaN);

/** Remove the error messages shown in a form. @param {HTMLElement} form */
export function clearErrors(form) {
  for (const node of form.querySelectorAll(".field-error")) node.remove();
  for (const node of form.querySelectorAll("[data-error-for]")) {
    /** @type {HTMLElement} */ (node).hidden = true;
  }
  for (const node of form.querySelectorAll(".invalid")) node.classList.remove("invalid");
}

/**
 * Show each `{field, message}` next to its input: the input named `prefix + field`, or the
 * one whose `data-fields` lists it; problems without a field go to the form's own line.
 * @param {HTMLElement} form @param {{field: string, message: string}[]} problems
 * @param {string} [message] the error's own message, shown when no field matches
 * @param {string} [prefix]
 */
export function showErrors(form, problems, message = "", prefix = "") {
  const unplaced = [];
  for (const problem of problems) {
    const input = form.querySelector(`[name="${CSS.escape(prefix + problem.field)}"]`)
      || form.querySelector(`[data-fields~="${CSS.escape(problem.field)}"]`);
    if (!input) {
      unplaced.push(`${problem.field}: ${problem.message}`);
      continue;
    }
    input.classList.add("invalid");
    const label = input.closest("label") || input;
    label.after(el("span", { className: "field-error", dataset: { field: problem.field } },
      problem.message));
  }
  const line = /** @type {HTMLElement | null} */ (form.querySelector('[data-error-for="_form"]'));
  if (line && (unplaced.length || !problems.length)) {
    line.textContent = [message, ...unplaced].filter(Boolean).join(" · ");
    line.hidden = false;
  }
}
