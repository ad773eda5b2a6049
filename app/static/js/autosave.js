/* Background saving of the respondent form: each changed question is sent on its own with the
   version it was based on. The page shows "Saved at 14:32", or a persistent error, or - when
   someone else changed the same answer meanwhile - both values and a choice. Without JavaScript the
   form's own Save button does the same work. */
(function () {
  "use strict";
  var form = document.querySelector("form.questionnaire-form[data-autosave-url]");
  if (!form) { return; }
  var url = form.getAttribute("data-autosave-url");
  var statusBox = document.getElementById("save-status");
  var csrf = (document.querySelector("meta[name=csrf-token]") || {}).content || "";
  var texts = JSON.parse((document.getElementById("autosave-texts") || {}).textContent || "{}");
  var timers = {};
  var pending = 0;

  function say(text, kind) {
    if (!statusBox) { return; }
    statusBox.textContent = text;
    statusBox.className = "save-status " + (kind || "");
  }

  function fieldsOf(box) {
    var data = {};
    var inputs = box.querySelectorAll("input, textarea, select");
    for (var i = 0; i < inputs.length; i++) {
      var el = inputs[i];
      if (!el.name || el.type === "file") { continue; }
      if ((el.type === "checkbox" || el.type === "radio") && !el.checked) {
        if (!(el.name in data)) { data[el.name] = []; }
        continue;
      }
      if (!(el.name in data)) { data[el.name] = []; }
      data[el.name].push(el.value);
    }
    return data;
  }

  function setError(box, message) {
    var id = "error-" + box.getAttribute("data-question");
    var el = document.getElementById(id);
    if (!message) {
      if (el && (el.getAttribute("data-live") || el.getAttribute("data-flag"))) { el.remove(); }
      box.classList.remove("has-error");
      return;
    }
    if (!el) {
      el = document.createElement("p");
      el.className = "error";
      el.id = id;
      el.setAttribute("data-live", "1");
      el.setAttribute("role", "alert");
      var label = box.querySelector(".question-label");
      if (label && label.parentNode) { label.parentNode.insertBefore(el, label.nextSibling); } else { box.prepend(el); }
    }
    el.textContent = message;
    box.classList.add("has-error");
  }

  /* Another answer of the page whose constraint now breaks (message), or holds again (""), after this save: its
     message follows, unless the box shows one of its own (a value refused, a required answer missing). */
  function setFlag(other, message) {
    var box = form.querySelector("[data-question='" + other + "']");
    if (!box) { return; }
    var el = document.getElementById("error-" + other);
    if (el && !el.getAttribute("data-flag")) { return; }
    if (!message) {
      if (el) { el.remove(); box.classList.remove("has-error"); }
      return;
    }
    setError(box, message);
    document.getElementById("error-" + other).setAttribute("data-flag", "1");
  }

  function showConflict(box, info) {
    var old = box.querySelector(".conflict");
    if (old) { old.remove(); }
    var div = document.createElement("div");
    div.className = "conflict";
    div.setAttribute("role", "alert");
    var p = document.createElement("p");
    p.textContent = texts.conflict || "Someone else changed this answer.";
    div.appendChild(p);
    var dl = document.createElement("dl");
    [[texts.yours || "Your value", info.yours_display], [(texts.theirs || "Saved value") + (info.by ? " (" + info.by + ", " + info.at + ")" : ""), info.theirs_display]].forEach(function (pair) {
      var dt = document.createElement("dt"); dt.textContent = pair[0];
      var dd = document.createElement("dd"); dd.textContent = pair[1] === "" || pair[1] == null ? "—" : pair[1];
      dl.appendChild(dt); dl.appendChild(dd);
    });
    div.appendChild(dl);
    var keep = document.createElement("button");
    keep.type = "button"; keep.className = "primary keep-mine"; keep.textContent = texts.keep_mine || "Keep my value";
    keep.addEventListener("click", function () { box.setAttribute("data-version", info.version); div.remove(); save(box); });
    var take = document.createElement("button");
    take.type = "button"; take.className = "take-theirs"; take.textContent = texts.take_theirs || "Use the saved value";
    take.addEventListener("click", function () { window.location.reload(); });
    div.appendChild(keep); div.appendChild(take);
    box.prepend(div);
    say(texts.conflict_status || "Not saved: conflict", "error");
  }

  // One save of a question at a time: a change made while its previous save is on its way is sent once that
  // save has answered, from the version it gave; sent at once, it would carry the version before that save and
  // be refused as someone else's change (a slow connection, two clicks in a row).
  var inFlight = {};
  var again = {};

  function save(box, keepalive) {
    var qid = box.getAttribute("data-question");
    clearTimeout(timers[qid]);
    delete timers[qid];
    if (inFlight[qid] && !keepalive) {
      again[qid] = box;
      return null;
    }
    inFlight[qid] = true;
    var body = { question: qid, fields: fieldsOf(box), base_version: parseInt(box.getAttribute("data-version") || "0", 10) };
    pending += 1;
    say(texts.saving || "Saving…", "busy");
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body),
      keepalive: !!keepalive
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) { return { status: response.status, data: data }; });
    }).then(function (result) {
      pending -= 1;
      var data = result.data || {};
      if (result.status === 200 && data.version === undefined) {  // not our answer: some other page
        say(texts.failed || "Could not save. Check your connection; your text is still on the page.", "error");
      } else if (result.status === 200) {
        box.setAttribute("data-version", data.version);
        // The page's hidden version and fingerprint of this answer follow the autosave: a whole-page save
        // (Save, Next, a file chosen) then starts from it, instead of taking one's own autosave for someone
        // else's change.
        var version = document.querySelector("input[name='v__" + qid + "']");
        if (version) { version.value = data.version; }
        var original = document.querySelector("input[name='o__" + qid + "']");
        if (original && data.digest !== undefined) { original.value = data.digest; }
        setError(box, null);
        if (data.flags) {
          for (var other in data.flags) {
            if (Object.prototype.hasOwnProperty.call(data.flags, other)) { setFlag(other, data.flags[other]); }
          }
        }
        var removed = box.querySelector("input[name$='__remove']:checked");
        if (removed) {  // "Remove this file" was saved: the file is gone
          var current = box.querySelector(".current-file");
          if (current) { current.remove(); }
          removed.closest("p").remove();
          box.removeAttribute("data-has-file");
        }
        if (data.progress && document.getElementById("progress-value")) {
          document.getElementById("progress-value").textContent = data.progress;
        }
        say((texts.saved_at || "Saved at %s").replace("%s", data.saved_at), "ok");
      } else if (result.status === 409) {
        showConflict(box, data.conflict || {});
      } else if (result.status === 401) {
        say(texts.signed_out || "Not saved: your session has ended. Your text is still on the page.", "error");
      } else if (result.status === 422) {
        setError(box, data.error || "");
        say(texts.not_saved || "Not saved: see the message beside the question", "error");
      } else {
        say((data.error && data.error.message) || texts.failed || "Could not save. Check your connection; your text is still on the page.", "error");
      }
    }).catch(function () {
      pending -= 1;
      say(texts.failed || "Could not save. Check your connection; your text is still on the page.", "error");
    }).then(function () {
      delete inFlight[qid];
      var next = again[qid];
      if (next) {
        delete again[qid];
        save(next);
      }
    });
  }

  var boxes = {};

  function schedule(box, delay) {
    var qid = box.getAttribute("data-question");
    clearTimeout(timers[qid]);
    boxes[qid] = box;
    timers[qid] = setTimeout(function () { save(box); }, delay);
  }

  // Save what is still waiting for its timer before the page is left (switching the language, a link).
  function flush() {
    for (var qid in timers) {
      if (Object.prototype.hasOwnProperty.call(timers, qid) && boxes[qid]) { save(boxes[qid], true); }
    }
    for (var waiting in again) {
      if (Object.prototype.hasOwnProperty.call(again, waiting)) { save(again[waiting], true); }
    }
  }
  window.addEventListener("pagehide", flush);
  var languageMenu = document.querySelector(".language-menu");
  if (languageMenu) { languageMenu.addEventListener("submit", flush); }

  form.addEventListener("change", function (e) {
    if (e.target.type === "file" && e.target.files && e.target.files.length) {
      var fileBox = e.target.closest("[data-question]");
      var limit = Number(e.target.getAttribute("data-max-bytes") || 0);
      if (limit && e.target.files[0].size > limit) {
        // Refused here rather than after sending it all: the server would refuse it too.
        e.target.value = "";
        if (fileBox) { setError(fileBox, e.target.getAttribute("data-too-large")); }
        return;
      }
      if (fileBox) { setError(fileBox, ""); }
      // Files go with the whole form (multipart): save the page as the Save button does.
      var button = form.querySelector("button[name=action][value=save]");
      if (button && form.requestSubmit) { form.requestSubmit(button); } else if (button) { button.click(); }
      return;
    }
    var box = e.target.closest("[data-question]");
    if (box && e.target.type !== "file") { schedule(box, 50); }
  });
  form.addEventListener("input", function (e) {
    var box = e.target.closest("[data-question]");
    if (box && (e.target.tagName === "TEXTAREA" || e.target.type === "text")) { schedule(box, 1200); }
  });
  window.addEventListener("beforeunload", function (e) {
    if (pending > 0) { e.preventDefault(); e.returnValue = ""; }
  });
  window.NAAutosave = { save: save };
})();
