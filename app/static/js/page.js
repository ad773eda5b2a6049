/* Every page: after a refused form, move the focus (and the view) to what went wrong, so that keyboard and
   screen-reader users do not start again at the top of a long page; ask before an action that cannot be
   undone with one click (forms with data-confirm). */
(function () {
  "use strict";
  function focusProblem() {
    var target = document.querySelector(".error-summary") || document.querySelector("form .error, [aria-invalid=true]");
    if (!target) { return; }
    if (!target.hasAttribute("tabindex") && !/^(INPUT|TEXTAREA|SELECT|BUTTON|A)$/.test(target.tagName)) {
      target.setAttribute("tabindex", "-1");
    }
    var details = target.closest("details");
    if (details) { details.open = true; }
    target.focus();
  }
  function confirmations() {
    document.addEventListener("submit", function (event) {
      var form = event.target;
      var message = form && form.getAttribute && form.getAttribute("data-confirm");
      var submitter = event.submitter;
      if (submitter && submitter.getAttribute("data-confirm")) { message = submitter.getAttribute("data-confirm"); }
      if (message && !window.confirm(message)) { event.preventDefault(); }
    }, true);
  }
  function start() { focusProblem(); confirmations(); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
