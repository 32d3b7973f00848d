// The overview's figures, one function each, all through the GraphQL API under the caller's scope.
// Today they are computed from `institutions` (with their quota summaries and leadership posts),
// `people { totalCount }`, `alertSummary` and payroll entries; when the statistics query `stats` is on
// the hub, each function becomes one call of it. The retirement curve and the headcount trend exist
// only as `retirementForecast` and `trend`: null while the hub does not offer them.
(function () {
  "use strict";
  var C = window.HubConsole;
  var D = C.data;
  var PAGE = 500; // institutions per request: ~90 cost each with quotas and posts, under the default cost limit

  // Every institution in scope with its quota summaries and leadership posts (paged), memoised per render.
  var cache = { render: -1, promise: null };
  D.institutions = function () {
    if (cache.render === C.current() && cache.promise) return cache.promise;
    var selection = C.sel("Institution", ["code", "name", "regionCode", "regionName", "type",
      ["quotas", "", ["quotaType", "approved", "occupied", "vacant", "over"]],
      ["leadershipPosts", "", ["level", "approved", "filled"]]]);
    var query = "query($after: String) { institutions(first: " + PAGE + ", after: $after) { totalCount " +
      "pageInfo { hasNextPage endCursor } edges { node { " + selection + " } } } }";
    var all = [];
    function page(after) {
      return C.q(query, { after: after }).then(function (data) {
        var found = data.institutions;
        found.edges.forEach(function (edge) { all.push(edge.node); });
        return found.pageInfo.hasNextPage ? page(found.pageInfo.endCursor) : { total: found.totalCount, nodes: all };
      });
    }
    cache = { render: C.current(), promise: page(null) };
    return cache.promise;
  };

  // Headline figures: institutions, persons, approved/occupied/vacant per quota type, leaders vs posts.
  D.headline = function () {
    return Promise.all([D.institutions(), C.q("{ people(first: 1) { totalCount } }")]).then(function (both) {
      var institutions = both[0], byType = {}, leaders = { approved: 0, filled: 0 };
      institutions.nodes.forEach(function (node) {
        (node.quotas || []).forEach(function (q) {
          var t = byType[q.quotaType] || (byType[q.quotaType] = { approved: 0, occupied: 0, vacant: 0, over: 0 });
          t.approved += q.approved; t.occupied += q.occupied; t.vacant += q.vacant; t.over += q.over || 0;
        });
        (node.leadershipPosts || []).forEach(function (p) { leaders.approved += p.approved; leaders.filled += p.filled || 0; });
      });
      var total = { approved: 0, occupied: 0, vacant: 0 };
      Object.keys(byType).forEach(function (k) { ["approved", "occupied", "vacant"].forEach(function (m) { total[m] += byType[k][m]; }); });
      return { institutions: institutions.total, persons: both[1].people.totalCount, byType: byType, total: total, leaders: leaders };
    });
  };

  // Quota use by region and quota type: {regions: [{code, name}], types: [..], occupied/vacant: {type: {region: n}}}.
  D.quotaUse = function () {
    return D.institutions().then(function (institutions) {
      var regions = {}, types = {}, occupied = {}, vacant = {};
      institutions.nodes.forEach(function (node) {
        var region = node.regionCode || "?";
        regions[region] = node.regionName || region;
        (node.quotas || []).forEach(function (q) {
          types[q.quotaType] = true;
          occupied[q.quotaType] = occupied[q.quotaType] || {};
          vacant[q.quotaType] = vacant[q.quotaType] || {};
          occupied[q.quotaType][region] = (occupied[q.quotaType][region] || 0) + q.occupied;
          vacant[q.quotaType][region] = (vacant[q.quotaType][region] || 0) + q.vacant;
        });
      });
      return {
        regions: Object.keys(regions).sort().map(function (code) { return { code: code, name: regions[code] }; }),
        types: C.enumValues("QuotaType").filter(function (t) { return types[t]; }),
        occupied: occupied, vacant: vacant,
      };
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
      });
    }
    return regionNames;
  };

  // Pay this month: the gross of the latest month on the payroll, summed over every person in scope;
  // null when the role may not read pay. (One page of 1,000 persons a request.)
  D.mayReadPay = function () { return C.can("PayrollEntry.gross") && C.can("Person.payroll") && C.can("PayrollRecord.entries"); };
  D.payThisMonth = function () {
    if (!D.mayReadPay()) return Promise.resolve(null);
    var query = "query($after: String) { people(first: 1000, after: $after) { pageInfo { hasNextPage endCursor } " +
      "edges { node { payroll { entries(last: 1) { month gross } } } } } }";
    var months = {};
    function page(after) {
      return C.q(query, { after: after }).then(function (data) {
        data.people.edges.forEach(function (edge) {
          ((edge.node.payroll || {}).entries || []).forEach(function (e) {
            var m = months[e.month] || (months[e.month] = { gross: 0, persons: 0 });
            m.gross += e.gross; m.persons += 1;
          });
        });
        return data.people.pageInfo.hasNextPage ? page(data.people.pageInfo.endCursor) : null;
      });
    }
    return page(null).then(function () {
      var latest = Object.keys(months).sort().pop();
      return latest ? { month: latest, gross: months[latest].gross, persons: months[latest].persons } : null;
    });
  };

  // Persons reaching retirement in each of the next five years: [{year, persons}], or null.
  D.retirementCurve = function () {
    if (!C.hasQuery("retirementForecast")) return Promise.resolve(null);
    return C.q("{ retirementForecast(years: 5) { rows { year persons } } }").then(function (data) {
      var byYear = {};
      data.retirementForecast.rows.forEach(function (r) { byYear[r.year] = (byYear[r.year] || 0) + r.persons; });
      return Object.keys(byYear).sort().map(function (y) { return { year: Number(y), persons: byYear[y] }; });
    });
  };

  // Persons in scope at the end of each of the last 24 months: [{month, value}], or null.
  D.headcountTrend = function () {
    if (!C.hasQuery("trend")) return Promise.resolve(null);
    var now = new Date(), from = new Date(now.getFullYear(), now.getMonth() - 23, 1);
    function month(d) { return d.getFullYear() + "-" + String(d.getMonth() + 1).padStart(2, "0"); }
    return C.q("query($from: String, $to: String) { trend(measure: PERSONS, fromMonth: $from, toMonth: $to) { month value } }",
      { from: month(from), to: month(now) }).then(function (data) { return data.trend || []; });
  };
})();
