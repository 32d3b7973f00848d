// The overview's figures, one function each, all through the GraphQL API under the caller's scope:
// grouped figures from `stats` (computed where the data lives, no paging through people), alert
// counts from `alertSummary`, the retirement curve from `retirementForecast`, the headcount trend
// from `trend`. A role that may only aggregate gets `restricted` answers: small groups come back
// suppressed (values null), which the page marks rather than treats as an error.
(function () {
  "use strict";
  var C = window.HubConsole;
  var D = C.data;

  // stats(measures, by) -> {rows: [{keys, values, suppressed}], total, restricted, minGroupSize}
  D.stats = function (measures, by) {
    return C.q("query($m: [Measure!]!, $b: [Dimension!]) { stats(measures: $m, by: $b) { " +
      "rows { keys values suppressed } total { values suppressed } restricted minGroupSize } }",
    { m: measures, b: by || null }).then(function (data) { if (data.stats.restricted) D.restricted = true; return data.stats; });
  };
  // A figure of a stats answer: a number, or {suppressed: true} for a cell withheld as too small.
  function cell(row, i) { return row.suppressed || row.values[i] === null ? { suppressed: true } : row.values[i]; }
  D.cell = cell;

  // Headline figures: institutions, persons (not slots), approved/occupied/vacant per quota type, leaders vs posts.
  D.headline = function () {
    var institutions = C.hasQuery("institutions") ? C.q("{ institutions(first: 1) { totalCount } }").then(function (d) {
      return d.institutions.totalCount; }) : Promise.resolve(null);
    var measures = ["APPROVED", "OCCUPIED", "VACANT"];
    return Promise.all([institutions, D.stats(["HEADCOUNT"]), D.stats(measures, ["QUOTA_TYPE"]),
      D.stats(["LEADERSHIP_APPROVED", "LEADERSHIP_FILLED"])]).then(function (all) {
      var byType = {}, total = {};
      all[2].rows.forEach(function (row) {
        var t = byType[row.keys[0] || "?"] = { suppressed: row.suppressed };
        measures.forEach(function (m, i) { t[m.toLowerCase()] = row.values[i]; });
      });
      measures.forEach(function (m, i) { total[m.toLowerCase()] = cell(all[2].total, i); });
      return {
        institutions: all[0], persons: cell(all[1].total, 0), byType: byType, total: total,
        leaders: { approved: cell(all[3].total, 0), filled: cell(all[3].total, 1) },
      };
    });
  };

  // Quota use by region and quota type: {regions: [{code, name}], types: [..], occupied/vacant: {type: {region: n|null}},
  // suppressed: ["region type", …]}.
  D.quotaUse = function () {
    return Promise.all([D.stats(["OCCUPIED", "VACANT"], ["REGION", "QUOTA_TYPE"]), D.regions()]).then(function (both) {
      var regions = {}, types = {}, occupied = {}, vacant = {}, suppressed = [];
      both[0].rows.forEach(function (row) {
        var region = row.keys[0] || "?", type = row.keys[1] || "?";
        regions[region] = both[1][region] || region;
        types[type] = true;
        (occupied[type] = occupied[type] || {})[region] = row.values[0];
        (vacant[type] = vacant[type] || {})[region] = row.values[1];
        if (row.suppressed) suppressed.push(regions[region] + " " + type);
      });
      var known = C.enumValues("QuotaType");
      return {
        regions: Object.keys(regions).sort().map(function (code) { return { code: code, name: regions[code] }; }),
        types: known.filter(function (t) { return types[t]; }).concat(Object.keys(types).filter(function (t) { return known.indexOf(t) < 0; })),
        occupied: occupied, vacant: vacant, suppressed: suppressed,
      };
    });
  };

  // Persons by education (the registry's): {levels: [..], persons: {level: n|null}, suppressed: [level, …]}.
  // Grouped in SQL at the registry; a role that may not read education gets it restricted (aggregate only).
  D.education = function () {
    return D.stats(["HEADCOUNT"], ["EDUCATION"]).then(function (s) {
      var persons = {}, suppressed = [];
      s.rows.forEach(function (row) {
        var level = row.keys[0] || C.t("未填", "not recorded");
        persons[level] = row.values[0];
        if (row.suppressed) suppressed.push(level);
      });
      return { levels: Object.keys(persons), persons: persons, suppressed: suppressed };
    });
  };

  // Alert counts by rule and by banner (open ones, and all): [{key, label, open, severeOpen, total}].
  function summary(by) {
    return C.q("{ alertSummary(by: " + by + ") { key total open severeOpen } }").then(function (data) { return data.alertSummary; });
  }
  D.alertsByRule = function () {
    return Promise.all([summary("RULE"), C.q("{ supervisionRules { id titleZh titleEn } }")]).then(function (both) {
      var titles = {};
      both[1].supervisionRules.forEach(function (r) { titles[r.id] = C.t(r.titleZh, r.titleEn); });
      return both[0].map(function (row) { return Object.assign({ label: row.key + " " + (titles[row.key] || "") }, row); });
    });
  };
  D.alertsByBanner = function () {
    return Promise.all([summary("REGION"), D.regions()]).then(function (both) {
      return both[0].map(function (row) { return Object.assign({ label: both[1][row.key] || row.key }, row); });
    });
  };
  var regionNames = null;
  D.regions = function () {
    if (!regionNames) {
      regionNames = C.q("{ regions { code name } }").then(function (data) {
        var names = {};
        data.regions.forEach(function (r) { names[r.code] = r.name; });
        return names;
      }, function () { regionNames = null; return {}; });
    }
    return regionNames;
  };

  // Pay this month: the gross of the latest pay month (one grouped statement at finance), or null
  // when the role may not read pay.
  D.mayReadPay = function () { return C.can("PayrollEntry.gross"); };
  D.payThisMonth = function () {
    if (!D.mayReadPay()) return Promise.resolve(null);
    return D.stats(["PAY_GROSS_TOTAL"], ["MONTH"]).then(function (s) {
      var rows = s.rows.filter(function (r) { return r.keys[0]; });
      var last = rows[rows.length - 1];
      return last ? { month: last.keys[0], gross: cell(last, 0) } : null;
    });
  };

  // Persons reaching retirement in each of the next five years: [{year, persons}], or null when not offered to the role.
  D.retirementCurve = function () {
    if (!C.hasQuery("retirementForecast")) return Promise.resolve(null);
    return C.q("{ retirementForecast(years: 5) { rows { year persons } } }").then(function (data) {
      var byYear = {};
      data.retirementForecast.rows.forEach(function (r) { byYear[r.year] = (byYear[r.year] || 0) + r.persons; });
      return Object.keys(byYear).sort().map(function (y) { return { year: Number(y), persons: byYear[y] }; });
    });
  };

  // Persons in scope in each of the last 24 months the hub has snapshots of: [{month, value}], or null.
  D.headcountTrend = function () {
    if (!C.hasQuery("trend")) return Promise.resolve(null);
    return C.q("{ trend(measure: PERSONS) { month value } }").then(function (data) { return (data.trend || []).slice(-24); });
  };
})();
