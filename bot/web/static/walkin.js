/* "Laporan baru": show only the questions the flow would ask, given the answers so far.
   Each field carries its conditions (bot/web/walkin_form.py): "show" when another field's
   answer is one of the values, "hide" when a shown field's answer is one of them. No answer,
   or a field not shown, is null. The server asks the engine anyway; this only spares the
   coordinator the questions that do not apply. */
(function () {
  "use strict";
  var form = document.getElementById("walkin-form");
  if (!form) { return; }
  var blocks = Array.prototype.slice.call(form.querySelectorAll("[data-field]"));

  function answer(block) {
    var inputs = Array.prototype.slice.call(block.querySelectorAll("input, select, textarea"));
    var kind = block.getAttribute("data-kind");
    if (kind === "consent") { return inputs[0].checked ? "yes" : "no"; }
    if (kind === "checkboxes") {
      var picked = inputs.filter(function (el) { return el.checked; }).map(function (el) { return el.value; });
      return picked.length ? picked : null;
    }
    var value = null;
    inputs.forEach(function (el) {
      if (el.type === "radio") {
        if (el.checked) { value = el.value; }
      } else {
        value = el.value.trim();
      }
    });
    return value === "" ? null : value;
  }

  function matches(value, values) {
    if (Array.isArray(value)) {
      return value.some(function (v) { return values.indexOf(v) >= 0; });
    }
    return values.indexOf(value) >= 0;
  }

  function update() {
    var seen = {};  // field -> its answer, for the fields shown so far
    blocks.forEach(function (block) {
      var rules = JSON.parse(block.getAttribute("data-rules") || "{}");
      var shown = (rules.show || []).every(function (rule) {
        return matches(rule[0] in seen ? seen[rule[0]] : null, rule[1]);
      }) && !(rules.hide || []).some(function (rule) {
        return rule[0] in seen && matches(seen[rule[0]], rule[1]);
      });
      block.hidden = !shown;
      if (shown) { seen[block.getAttribute("data-field")] = answer(block); }
    });
  }

  form.addEventListener("change", update);
  form.addEventListener("input", update);
  update();
}());
