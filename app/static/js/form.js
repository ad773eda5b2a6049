/* Questionnaire form behaviour: skip logic (show_if) evaluated in the browser with the same
   expression trees as the server (expressions.js), and exclusive special answers.
   No framework; works without it too (the server applies the same rules on save). */
(function () {
  "use strict";
  var SPECIAL = ["not_applicable", "dont_know"];

  function readJSON(id) {
    var el = document.getElementById(id);
    if (!el) { return {}; }
    try { return JSON.parse(el.textContent || "{}"); } catch (e) { return {}; }
  }

  function parseNumber(text) {
    var t = String(text).trim().replace(/\s/g, "");
    // "1,200" is refused by the server (1200 or 1.2?): no value for the rules either
    if (/^[-+]?\d{1,3},\d{3}$/.test(t)) { return null; }
    t = t.replace(",", ".");
    if (t === "" || !/^[-+]?(\d+\.?\d*|\.\d+)$/.test(t)) { return null; }
    return Number(t);
  }

  function valueOf(box) {
    var type = box.getAttribute("data-type");
    var special = box.querySelector("input.special:checked");
    if (special && type !== "multiple_choice") { return special.value; }
    var inputs, i, out;
    if (type === "multiple_choice") {
      inputs = box.querySelectorAll("input[type=checkbox]:checked");
      out = [];
      for (i = 0; i < inputs.length; i++) { out.push(inputs[i].value); }
      if (out.length === 1 && SPECIAL.indexOf(out[0]) >= 0) { return out[0]; }
      return out;
    }
    if (type === "matrix") {
      inputs = box.querySelectorAll("input[type=radio]:checked");
      out = {};
      for (i = 0; i < inputs.length; i++) {
        var row = inputs[i].name.split("__").pop();
        var n = parseNumber(inputs[i].value);
        out[row] = n === null ? inputs[i].value : n;
      }
      return out;
    }
    if (type === "single_choice" || type === "yes_no" || type === "scale") {
      var checked = box.querySelector("input[type=radio]:checked");
      if (!checked) { return null; }
      if (type === "scale" && SPECIAL.indexOf(checked.value) < 0) { return parseNumber(checked.value); }
      return checked.value;
    }
    if (type === "note") { return null; }
    var field = box.querySelector("input:not(.special), textarea, select");
    if (!field) { return null; }
    if (type === "file") { return field.files && field.files.length ? field.files[0].name : (box.getAttribute("data-has-file") ? "file" : null); }
    if (field.value === "") { return null; }
    if (type === "number") { var num = parseNumber(field.value); return num === null ? field.value : num; }
    return field.value;
  }

  function collect(form, known) {
    var values = {}, k;
    for (k in known) { if (Object.prototype.hasOwnProperty.call(known, k)) { values[k] = known[k]; } }
    var boxes = form.querySelectorAll("[data-question]");
    for (var i = 0; i < boxes.length; i++) {
      values[boxes[i].getAttribute("data-question")] = valueOf(boxes[i]);
    }
    return values;
  }

  /* Which boxes skip logic hides, as the server reads it (app.questionnaires.rendering.visibility): the answer of
     a hidden question counts as empty for every rule, so a rule on it hides the questions that depend on it
     too. Rules never form a cycle, so this settles within as many rounds as the longest chain of rules. */
  function hiddenBoxes(boxes, values) {
    var hidden = [], i, round, masked, key;
    var trees = [];
    for (i = 0; i < boxes.length; i++) {
      try { trees.push(JSON.parse(boxes[i].getAttribute("data-show-if"))); } catch (e) { trees.push(null); }
    }
    for (round = 0; round <= boxes.length + 1; round++) {
      masked = {};
      for (key in values) { if (Object.prototype.hasOwnProperty.call(values, key)) { masked[key] = values[key]; } }
      for (i = 0; i < boxes.length; i++) { if (hidden[i]) { masked[boxes[i].getAttribute("data-question")] = null; } }
      var now = [], changed = false;
      for (i = 0; i < boxes.length; i++) {
        var visible = true;
        if (trees[i]) {
          try { visible = window.NAExpr.truthy(window.NAExpr.evaluate(trees[i], masked, null, window.NAToday || null)); }
          catch (e2) { visible = true; }
        }
        now.push(!visible);
        if (!visible !== !!hidden[i]) { changed = true; }
      }
      hidden = now;
      if (!changed) { break; }
    }
    return hidden;
  }

  function apply(form, known) {
    if (!window.NAExpr) { return; }
    var boxes = form.querySelectorAll("[data-show-if]");
    var hidden = hiddenBoxes(boxes, collect(form, known));
    for (var i = 0; i < boxes.length; i++) {
      boxes[i].hidden = hidden[i];
      boxes[i].setAttribute("aria-hidden", hidden[i] ? "true" : "false");
    }
    form.dispatchEvent(new CustomEvent("na:visibility", { bubbles: true }));
  }

  function exclusive(event) {
    var input = event.target;
    if (!input || input.type !== "checkbox") { return; }
    var box = input.closest("[data-question]");
    if (!box || !input.checked) { return; }
    var all = box.querySelectorAll("input[type=checkbox]");
    var isSpecial = input.classList.contains("special");
    for (var i = 0; i < all.length; i++) {
      if (all[i] === input) { continue; }
      if (isSpecial || all[i].classList.contains("special")) { all[i].checked = false; }
    }
  }

  /* A special answer ("Not applicable", "Don't know") beside a typed answer (text, number, date): while it is
     ticked the typed field is disabled, so it is neither saved nor editable and nobody types a value that a
     ticked special answer would override; unticking it gives the field back with what it held. */
  function typedFields(box) {
    return box.querySelectorAll("input[type=text], input[type=date], input[type=number], textarea");
  }

  function syncSpecials(box) {
    var specials = box.querySelectorAll("input.special");
    if (!specials.length) { return; }
    var ticked = false;
    for (var i = 0; i < specials.length; i++) { if (specials[i].checked) { ticked = true; } }
    var fields = typedFields(box);
    for (var j = 0; j < fields.length; j++) {
      if (fields[j].readOnly) { continue; }
      fields[j].disabled = ticked;
    }
  }

  function init() {
    var forms = document.querySelectorAll("form.questionnaire-form");
    var known = readJSON("answers-data");
    var today = document.getElementById("form-today");
    if (today) { try { window.NAToday = JSON.parse(today.textContent); } catch (e) { window.NAToday = null; } }
    for (var i = 0; i < forms.length; i++) {
      (function (form) {
        form.addEventListener("change", function (e) {
          exclusive(e);
          if (e.target && e.target.classList && e.target.classList.contains("special")) {
            var box = e.target.closest("[data-question]");
            if (box) { syncSpecials(box); }
          }
          apply(form, known);
        });
        form.addEventListener("input", function () { apply(form, known); });
        var boxes = form.querySelectorAll("[data-question]");
        for (var b = 0; b < boxes.length; b++) { syncSpecials(boxes[b]); }
        apply(form, known);
      })(forms[i]);
    }
  }

  window.NAForm = { collect: collect, apply: apply, valueOf: valueOf };
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
