/* The review page of one response: the clarification request is one form spread over a long page (a tick and
   a message beside each question), and adding a comment reloads the page. Keep what the reviewer ticked and
   typed in sessionStorage until the response has been returned, so that no text is lost meanwhile. */
(function () {
  "use strict";
  var form = document.getElementById("clarify-form");
  var script = document.currentScript;
  var store;
  try { store = window.sessionStorage; } catch (e) { return; }
  if (!store) { return; }
  if (!form) {
    // No request form: the response is no longer submitted (e.g. just returned): forget the draft.
    var forget = script && script.getAttribute("data-draft-forget");
    if (forget) { store.removeItem(forget); }
    return;
  }
  var key = form.getAttribute("data-draft-key");
  var validate = document.getElementById("validate-form");
  var plainConfirmation = validate && validate.getAttribute("data-confirm");
  var fields = document.querySelectorAll("[form=clarify-form][data-draft]");
  var serverFilled = false;
  fields.forEach(function (field) {
    if (field.type === "checkbox" ? field.checked : field.value) { serverFilled = true; }
  });
  function save() {
    var draft = {};
    fields.forEach(function (field) {
      var name = field.getAttribute("data-draft");
      if (field.type === "checkbox") { if (field.checked) { draft[name] = true; } }
      else if (field.value) { draft[name] = field.value; }
    });
    if (Object.keys(draft).length) { store.setItem(key, JSON.stringify(draft)); } else { store.removeItem(key); }
    // Validating drops the request being written (the draft is forgotten once the response is no longer
    // submitted): the confirmation says so while there is one.
    if (validate) {
      validate.setAttribute("data-confirm", Object.keys(draft).length ?
        validate.getAttribute("data-confirm-draft") : plainConfirmation);
    }
  }
  if (!serverFilled) {  // a refused request comes back filled by the server: that copy wins
    var saved = null;
    try { saved = JSON.parse(store.getItem(key) || "null"); } catch (e) { saved = null; }
    if (saved) {
      fields.forEach(function (field) {
        var value = saved[field.getAttribute("data-draft")];
        if (value === undefined) { return; }
        if (field.type === "checkbox") { field.checked = !!value; } else { field.value = value; }
      });
    }
  }
  fields.forEach(function (field) {
    field.addEventListener(field.type === "checkbox" ? "change" : "input", save);
  });
  save();
})();
