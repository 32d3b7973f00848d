// GB 11643 resident ID numbers in the browser, ported from hub/core/ids.py (normalize_id_number,
// id_check_digit, id_number_problem) so a form can say what is wrong while one types;
// tests/shell/test_console_app.py holds it to the Python functions.
(function () {
  "use strict";
  var WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  var CHECK = "10X98765432";

  function checkDigit(body17) {
    var total = 0;
    for (var i = 0; i < 17; i++) total += Number(body17.charAt(i)) * WEIGHTS[i];
    return CHECK.charAt(total % 11);
  }
  // Folded (NFKC: full-width digits and X), white space removed, upper case, 15 digits upgraded; null if blank.
  function normalize(raw) {
    if (raw === null || raw === undefined) return null;
    var text = String(raw).normalize("NFKC").replace(/\s+/g, "").toUpperCase();
    if (!text) return null;
    if (/^\d{15}$/.test(text)) {
      var body = text.slice(0, 6) + "19" + text.slice(6);
      return body + checkDigit(body);
    }
    return text;
  }
  function realDate(y, m, d) {
    if (y < 1 || m < 1 || m > 12 || d < 1) return false;
    var days = [31, (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    return d <= days[m - 1];
  }
  // Why a normalized ID number is invalid (bilingual, as the hub says it), or null when it is valid.
  function problem(id18) {
    if (!/^\d{17}[\dX]$/.test(id18)) return "身份证号码格式错误 / malformed ID number (18 characters: 17 digits and a check digit or X)";
    if (!realDate(Number(id18.slice(6, 10)), Number(id18.slice(10, 12)), Number(id18.slice(12, 14)))) {
      return "身份证号码中的出生日期无效 / the birth date inside the ID number is not a real date";
    }
    if (checkDigit(id18.slice(0, 17)) !== id18.charAt(17)) return "身份证号码校验位错误 / wrong check digit in the ID number";
    return null;
  }
  window.HubIds = { checkDigit: checkDigit, normalize: normalize, problem: problem };
})();
