/* The call worklist's keyboard (the page works without it: plain forms, radio buttons, submit buttons).
   List page: Enter (the focused button) or N takes the next call.
   Call page: digits give the current question's score (1 then 0 gives 10; on a yes/no question
   1 = yes, 2 = no), Y / N answer yes / no, Up / Down (or Tab) move between questions, Left / Right
   move the score; a letter chooses the outcome (A W B V H K D C, shown on each button), Enter
   saves it (answered when none was chosen) and the server goes straight to the next call.
   Esc leaves a text box, Ctrl+Enter saves from it. */
(function () {
  "use strict";

  function isText(el) {
    return !!el && (el.tagName === "TEXTAREA" || (el.tagName === "INPUT" && /^(text|search|password|number)$/.test(el.type)));
  }

  function plainKey(e) { return !(e.ctrlKey || e.metaKey || e.altKey); }

  var form = document.getElementById("call-form");
  if (!form) {
    var next = document.getElementById("take-next");
    if (!next) { return; }
    document.addEventListener("keydown", function (e) {
      if (!plainKey(e) || isText(e.target) || next.disabled) { return; }
      if (e.key === "n" || e.key === "N") {
        e.preventDefault();
        next.form.requestSubmit(next);
      }
    });
    return;
  }

  var questions = Array.prototype.slice.call(form.querySelectorAll(".question"));
  var buttons = {};
  Array.prototype.forEach.call(form.querySelectorAll("button[data-key]"), function (b) {
    buttons[b.getAttribute("data-key").toLowerCase()] = b;
  });
  var picker = document.getElementById("callback-at");
  var told = document.getElementById("chosen-outcome");
  var chosen = null;
  var current = 0;
  var lastDigit = null;

  function mark(index) {
    questions.forEach(function (q, i) { q.classList.toggle("current", i === index); });
  }

  function focusQuestion(index) {
    if (!questions.length) { return; }
    current = Math.max(0, Math.min(questions.length - 1, index));
    var q = questions[current];
    var target = q.querySelector("input:checked") || q.querySelector("input, textarea");
    if (target) { target.focus(); }
    mark(current);
    lastDigit = null;
  }

  function choose(button) {
    chosen = button;
    Object.keys(buttons).forEach(function (k) {
      buttons[k].classList.toggle("chosen", buttons[k] === button);
      buttons[k].setAttribute("aria-pressed", buttons[k] === button ? "true" : "false");
    });
    if (told) { told.textContent = button.textContent.replace(/\s+/g, " ").trim() + " — Enter"; }
  }

  function setAnswer(q, value) {
    var input = q.querySelector('input[value="' + value + '"]');
    if (!input) { return false; }
    input.checked = true;
    input.focus();
    return true;
  }

  function save() {
    form.requestSubmit(chosen || buttons.a);
  }

  form.addEventListener("focusin", function (e) {
    var q = e.target.closest(".question");
    if (q) { current = questions.indexOf(q); mark(current); }
  });

  document.addEventListener("keydown", function (e) {
    var t = e.target;
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); save(); return; }
    if (!plainKey(e)) { return; }
    if (isText(t)) {
      if (e.key === "Escape") {
        e.preventDefault();
        var after = questions.indexOf(t.closest(".question")) + 1;
        if (after > 0 && after < questions.length) { focusQuestion(after); } else { buttons.a.focus(); }
      }
      return;  // typing: every other key is the text's
    }
    if (e.key === "Enter") {
      if (t.tagName === "BUTTON" || t.tagName === "A") { return; }  // the focused button or link does its own thing
      e.preventDefault();
      save();
      return;
    }
    if (t.tagName === "SELECT") { return; }  // the arrows pick the callback time
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      focusQuestion(current + (e.key === "ArrowDown" ? 1 : -1));
      return;
    }
    var q = questions[current];
    var kind = q ? q.getAttribute("data-kind") : "";
    var key = e.key.length === 1 ? e.key.toLowerCase() : "";
    if (q && /^[0-9]$/.test(key)) {
      if (kind === "scale10") {
        var checked = q.querySelector("input:checked");
        var value = key === "0" && lastDigit === "1" && checked && checked.value === "1" ? "10" : key;
        setAnswer(q, value);
        lastDigit = value === "10" ? null : key;
        e.preventDefault();
        return;
      }
      if (kind === "yesno" && (key === "1" || key === "2")) {
        setAnswer(q, key === "1" ? "yes" : "no");
        e.preventDefault();
        return;
      }
    }
    lastDigit = null;
    if (q && kind === "yesno" && (key === "y" || key === "n")) {
      setAnswer(q, key === "y" ? "yes" : "no");
      e.preventDefault();
      return;
    }
    if (buttons[key]) {
      e.preventDefault();
      choose(buttons[key]);
      if (key === "c" && picker) { picker.focus(); }
    }
  });

  var invalid = form.querySelector(".question.invalid");
  focusQuestion(invalid ? questions.indexOf(invalid) : 0);
})();
