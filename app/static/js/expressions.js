/* Browser evaluator of questionnaire expressions: the JSON trees made by
   app/questionnaires/expressions.py (to_json), with exactly the same semantics as the Python
   evaluator (a shared table of cases is checked against both in the test suite). No eval. */
(function () {
  "use strict";
  var NUMERIC = /^[ \t\n\r\f\v]*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)[ \t\n\r\f\v]*$/;  // as _NUMERIC in expressions.py

  function isNum(v) { return typeof v === "number"; }
  function isBool(v) { return typeof v === "boolean"; }

  function fmtNum(v) {
    if (Number.isInteger(v) && Math.abs(v) < 1e15) { return String(v); }
    var s = String(v);
    return s;
  }

  function toStr(v) {
    if (v === null || v === undefined) { return ""; }
    if (isBool(v)) { return v ? "true" : "false"; }
    if (isNum(v)) { return fmtNum(v); }
    if (Array.isArray(v)) { return v.map(toStr).join(" "); }
    if (typeof v === "object") { return ""; }
    return String(v);
  }

  function toNum(v) {
    if (isBool(v)) { return v ? 1 : 0; }
    if (isNum(v)) { return isNaN(v) ? null : v; }
    if (typeof v === "string" && NUMERIC.test(v)) { return Number(v.trim()); }
    return null;
  }

  function truthy(v) {
    if (v === null || v === undefined || v === false) { return false; }
    if (isNum(v)) { return v !== 0; }
    if (typeof v === "string" || Array.isArray(v)) { return v.length > 0; }
    if (typeof v === "object") { return Object.keys(v).length > 0; }
    return true;
  }

  function asList(v) {
    if (Array.isArray(v)) { return v.map(toStr); }
    var t = toStr(v).trim();
    return t ? t.split(/\s+/) : [];
  }

  function equal(a, b) {
    var an = toNum(a), bn = toNum(b);
    if (an !== null && bn !== null && !(typeof a === "string" && typeof b === "string")) { return an === bn; }
    if (isBool(a) || isBool(b)) { return truthy(a) === truthy(b); }
    return toStr(a) === toStr(b);
  }

  function order(op, a, b) {
    var an = toNum(a), bn = toNum(b), x, y;
    if (an !== null && bn !== null) { x = an; y = bn; } else {
      if (a === null || a === undefined || a === "" || b === null || b === undefined || b === "" || an !== null || bn !== null) { return false; }
      x = toStr(a); y = toStr(b);
    }
    if (op === "<") { return x < y; }
    if (op === "<=") { return x <= y; }
    if (op === ">") { return x > y; }
    return x >= y;
  }

  function arith(op, a, b) {
    var x = toNum(a), y = toNum(b);
    if (x === null || y === null) { return null; }
    if (op === "+") { return x + y; }
    if (op === "-") { return x - y; }
    if (op === "*") { return x * y; }
    if (y === 0) { return null; }
    if (op === "div") { return x / y; }
    return x % y;
  }

  function isoToday(today) {
    if (today) { return today; }
    var d = new Date();
    var m = String(d.getMonth() + 1), day = String(d.getDate());
    return d.getFullYear() + "-" + (m.length < 2 ? "0" + m : m) + "-" + (day.length < 2 ? "0" + day : day);
  }

  function evaluate(node, values, current, today) {
    var t = node.t, v;
    if (t === "num" || t === "str") { return node.v; }
    if (t === "ref") {
      v = values ? values[node.v] : undefined;
      return v === null || v === undefined ? "" : v;
    }
    if (t === "cur") { return current === null || current === undefined ? "" : current; }
    if (t === "neg") {
      var n = toNum(evaluate(node.a, values, current, today));
      return n === null ? null : -n;
    }
    if (t === "bin") {
      if (node.op === "and") { return truthy(evaluate(node.l, values, current, today)) && truthy(evaluate(node.r, values, current, today)); }
      if (node.op === "or") { return truthy(evaluate(node.l, values, current, today)) || truthy(evaluate(node.r, values, current, today)); }
      var l = evaluate(node.l, values, current, today), r = evaluate(node.r, values, current, today);
      if (node.op === "=") { return equal(l, r); }
      if (node.op === "!=") { return !equal(l, r); }
      if (node.op === "<" || node.op === "<=" || node.op === ">" || node.op === ">=") { return order(node.op, l, r); }
      return arith(node.op, l, r);
    }
    if (t === "call") { return call(node, values, current, today); }
    throw new Error("unknown node " + t);
  }

  function call(node, values, current, today) {
    var f = node.f;
    if (f === "if") {
      return evaluate(truthy(evaluate(node.args[0], values, current, today)) ? node.args[1] : node.args[2], values, current, today);
    }
    var a = node.args.map(function (x) { return evaluate(x, values, current, today); });
    switch (f) {
      case "selected": return asList(a[0]).indexOf(toStr(a[1])) >= 0;
      case "count-selected": return asList(a[0]).length;
      case "string-length": return Array.from(toStr(a[0])).length;
      case "today": return isoToday(today);
      case "not": return !truthy(a[0]);
      case "true": return true;
      case "false": return false;
      case "number": return toNum(a[0]);
      case "int": var n = toNum(a[0]); return n === null ? null : Math.trunc(n);
      case "string": case "date": return toStr(a[0]);
      case "boolean": return truthy(a[0]);
      case "concat": return a.map(toStr).join("");
      case "coalesce": return truthy(a[0]) ? a[0] : a[1];
      case "contains": return toStr(a[0]).indexOf(toStr(a[1])) >= 0;
      case "regex":
        try { return new RegExp(toStr(a[1])).test(toStr(a[0])); } catch (e) { return false; }
      default: throw new Error("unknown function " + f);
    }
  }

  window.NAExpr = { evaluate: evaluate, truthy: truthy };
})();
