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

  /* The question's message is gone once its answer is saved: the one written by this script, and the one the
     server rendered with the page (a value refused on Save, "answer this question before you submit"), with
     the field's aria-invalid and its line in the summary at the top of the page. */
  function clearError(box) {
    var qid = box.getAttribute("data-question");
    var el = document.getElementById("error-" + qid);
    if (el) { el.remove(); }
    box.classList.remove("has-error");
    var fields = box.querySelectorAll("[aria-invalid]");
    for (var i = 0; i < fields.length; i++) { fields[i].removeAttribute("aria-invalid"); }
    var summary = document.getElementById("error-summary");
    var link = summary && summary.querySelector("a[href='#question-" + qid + "']");
    if (link && link.closest("li")) {
      link.closest("li").remove();
      if (!summary.querySelector("li")) { summary.remove(); }
    }
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
  // (Also when the page is being left: sent at once, with the version before the save on its way, it would be
  // refused as someone else's change; the page asks before it is left while a save is on its way.)
  var inFlight = {};
  var again = {};
  // Questions whose save failed (no connection, a server error): kept, retried when the connection is back
  // (after any save that worked, on the browser's "online" event, or every 15 seconds), and the page never says
  // "Saved" nor lets itself be left without asking while any is left.
  var unsaved = {};
  var retryTimer = null;

  function anyUnsaved() {
    for (var qid in unsaved) { if (Object.prototype.hasOwnProperty.call(unsaved, qid)) { return true; } }
    return false;
  }

  function retryUnsaved() {
    clearTimeout(retryTimer);
    retryTimer = null;
    for (var qid in unsaved) {
      if (Object.prototype.hasOwnProperty.call(unsaved, qid) && !inFlight[qid] && !timers[qid]) { save(unsaved[qid]); }
    }
  }

  var failedText = texts.failed || "Could not save. Check your connection; your text is still on the page.";

  function failed(qid, box) {
    unsaved[qid] = box;
    if (!retryTimer) { retryTimer = setTimeout(retryUnsaved, 15000); }
    say(failedText, "error");
  }
  window.addEventListener("online", retryUnsaved);

  function save(box, keepalive) {
    var qid = box.getAttribute("data-question");
    clearTimeout(timers[qid]);
    delete timers[qid];
    if (inFlight[qid]) {
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
      // Any answer of ours ends the retrying of this question (a refusal, a conflict: the person acts);
      // `failed` keeps it for a failure of the connection or of the server.
      delete unsaved[qid];
      var data = result.data || {};
      if (result.status === 200 && data.version === undefined) {  // not our answer: some other page
        failed(qid, box);
      } else if (result.status === 200) {
        box.setAttribute("data-version", data.version);
        // The page's hidden version and fingerprint of this answer follow the autosave: a whole-page save
        // (Save, Next, a file chosen) then starts from it, instead of taking one's own autosave for someone
        // else's change.
        var version = document.querySelector("input[name='v__" + qid + "']");
        if (version) { version.value = data.version; }
        var original = document.querySelector("input[name='o__" + qid + "']");
        if (original && data.digest !== undefined) { original.value = data.digest; }
        clearError(box);
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
        if (anyUnsaved()) {  // the connection works again: the saves that failed go now
          say(failedText, "error");
          setTimeout(retryUnsaved, 0);
        } else {
          say((texts.saved_at || "Saved at %s").replace("%s", data.saved_at), "ok");
        }
      } else if (result.status === 409) {
        showConflict(box, data.conflict || {});
      } else if (result.status === 401) {
        say(texts.signed_out || "Not saved: your session has ended. Your text is still on the page.", "error");
      } else if (result.status === 422) {
        setError(box, data.error || "");
        say(texts.not_saved || "Not saved: see the message beside the question", "error");
      } else if (result.status === 400 && data.error && data.error.code === "form_expired") {
        // the form's token: the session ended (or another agency's link replaced it) since the page was opened
        say(texts.signed_out || "Not saved: your session has ended. Your text is still on the page.", "error");
      } else if (result.status === 400) {
        say((data.error && data.error.message) || failedText, "error");
      } else {
        failed(qid, box);
      }
    }).catch(function () {
      pending -= 1;
      failed(qid, box);
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

  function busy() {
    return pending > 0 || Object.keys(timers).length > 0 || Object.keys(again).length > 0;
  }

  // Calls `then` once no save is on its way or waiting (at most 15 seconds later).
  function whenIdle(then) {
    var waited = 0;
    (function check() {
      if (!busy() || waited >= 15000) { then(); return; }
      waited += 100;
      setTimeout(check, 100);
    })();
  }

  // True while the page is being left by its own forms, which carry (or have waited for) every answer: no
  // "leave the page?" then. Back to false a moment later, should the browser stop that navigation.
  var leaving = false;
  var resubmitting = false;

  function leave() {
    leaving = true;
    setTimeout(function () { leaving = false; }, 2000);
  }

  // Send `target` again as if `submitter` (the button pressed, whose name and value say what to do) had sent it.
  function submitAgain(target, submitter) {
    resubmitting = true;
    setTimeout(function () { resubmitting = false; }, 2000);
    if (target.requestSubmit) { target.requestSubmit(submitter); return; }
    if (submitter && submitter.name) {  // older browsers: the button's value goes in a field of its own
      var field = document.createElement("input");
      field.type = "hidden"; field.name = submitter.name; field.value = submitter.value;
      target.appendChild(field);
    }
    target.submit();
  }

  var languageMenu = document.querySelector(".language-menu");
  if (languageMenu) {
    languageMenu.addEventListener("submit", function (e) {
      if (resubmitting) { return; }
      flush();  // what waits for its timer goes now
      retryUnsaved();  // the saves that failed, once more
      if (!busy()) {
        // an answer still unsaved is lost with the page (it is not sent with the language): the browser asks
        if (!anyUnsaved()) { leave(); }
        return;
      }
      e.preventDefault();  // the newest text would be lost (or refused) if the page were left now
      var submitter = e.submitter || null;  // the language's button: its value is the choice
      whenIdle(function () {
        if (!anyUnsaved()) { leave(); }
        submitAgain(languageMenu, submitter);
      });
    });
  }

  // Save, Next or Previous: the whole page is sent with the versions of its answers. A background save still
  // on its way would change a version after the page took it, and the page's own save would be refused as
  // someone else's change: it is sent once they have answered. The changes waiting for their timer go with the
  // page itself.
  form.addEventListener("submit", function (e) {
    if (resubmitting) { return; }
    for (var qid in timers) {
      if (Object.prototype.hasOwnProperty.call(timers, qid)) { clearTimeout(timers[qid]); }
    }
    timers = {};
    again = {};
    if (pending === 0) { leave(); return; }  // the page carries every answer, the unsaved ones too
    e.preventDefault();
    var submitter = e.submitter || null;
    whenIdle(function () {
      leave();
      submitAgain(form, submitter);
    });
  });

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
    if (!leaving && (pending > 0 || anyUnsaved())) { e.preventDefault(); e.returnValue = ""; }
  });
  window.NAAutosave = { save: save };
})();
