// The overview: headline figures and charts of the caller's scope. Each chart shows its numbers on
// hover (Chart.js tooltips) and a click on a bar opens the rows behind it; every chart's canvas
// carries data-chart and its figures stay readable by Chart.getChart(canvas).
(function () {
  "use strict";
  var C = window.HubConsole, h = C.h, D = C.data;
  var QUOTA = { XZ: ["行政", "civil service"], ZF: ["政法", "political-legal"], CG: ["参公", "civil-service PI"],
    SY: ["事业", "public institution"], JS: ["机关工勤", "agency workers"], GQ: ["工勤", "workers"] };
  C.quotaLabel = function (t) { var l = QUOTA[t]; return l ? t + " " + C.t(l[0], l[1]) : t; };
  var COLOURS = ["#0b5cad", "#e08a00", "#2e8b57", "#b03a2e", "#6c4f9c", "#2b8a9a", "#7f8c8d"];

  // A bar chart; `links[i]` is where a click on the i-th category goes.
  C.chart = function (name, config, links) {
    var canvas = h("canvas", { "data-chart": name, role: "img", "aria-label": name });
    var box = h("div.chart", canvas);
    config.options = Object.assign({
      responsive: true, maintainAspectRatio: false, animation: false,
      interaction: { mode: "index", intersect: false },
      plugins: { legend: { position: "bottom" } },
      onClick: function (event, elements) {
        if (links && elements.length) window.location.hash = links[elements[0].index];
      },
      onHover: function (event, elements) { canvas.style.cursor = links && elements.length ? "pointer" : "default"; },
    }, config.options || {});
    return { box: box, draw: function () { return new window.Chart(canvas, config); } };
  };

  // A headline figure; a cell withheld as too small ({suppressed: true}) is marked, not an error.
  var SUPPRESSED = function () { return C.t("已抑制", "suppressed"); };
  function shown(value) {
    if (value && value.suppressed) return SUPPRESSED();
    return typeof value === "number" ? C.number(value) : value === null || value === undefined ? "—" : value;
  }
  function figure(label, value, id, href) {
    var withheld = !!(value && value.suppressed);
    return h("div.figure" + (withheld ? ".suppressed" : ""), { "data-figure": id, "data-suppressed": withheld ? "true" : null,
      title: withheld ? C.t("人数过少，按规定不予显示", "too few people behind it: withheld") : null },
    h("div.value", href && !withheld ? C.link(href, shown(value)) : shown(value)), h("div.label", label));
  }
  // The note under a chart naming its suppressed cells (null in the chart's data).
  function suppressedNote(cells) {
    if (!cells.length) return null;
    return h("p.hint.suppressed-cells", { "data-suppressed": String(cells.length) },
      C.t("已抑制（人数过少）：", "Suppressed (too few people): "), cells.join(C.t("、", ", ")));
  }
  function card(title) {
    var body = h("div");
    var el = h("section.card", h("h2", title), body);
    return { el: el, body: body };
  }
  function fail(into) { return function (error) { into.appendChild(h("p.error", C.pick(error.message || String(error)))); }; }

  C.pages.overview = function (main) {
    var started = performance.now();
    D.restricted = false; // set by any restricted `stats` answer of this render
    var figures = h("div.figures#figures", h("span.muted", C.t("加载中…", "Loading…")));
    var quota = card(C.t("编制使用（按编制类型）", "Quota use by quota type"));
    var rules = card(C.t("待处理预警（按规则）", "Open alerts by rule"));
    var banners = card(C.t("待处理预警（按旗县区）", "Open alerts by banner"));
    var regions = card(C.t("编制使用（按旗县区和类型）", "Quota use by region and type"));
    var pay = h("div.figures#pay");
    main.appendChild(h("h1", C.t("概览", "Overview"), " ", h("span.muted", C.describe(C.me).region)));
    main.appendChild(figures);
    main.appendChild(pay);
    main.appendChild(h("div.grid", quota.el, regions.el));
    main.appendChild(h("div.grid", rules.el, banners.el));
    var retirement = card(C.t("未来五年退休人数", "Retirements in the next five years"));
    var trend = card(C.t("近 24 个月在编人数", "Persons over the last 24 months"));
    main.appendChild(h("div.grid", retirement.el, trend.el));
    var schooling = card(C.t("在编人员学历构成", "Persons by education"));
    main.appendChild(h("div.grid", schooling.el));

    var headline = D.headline().then(function (f) {
      figures.textContent = "";
      if (f.institutions !== null) figures.appendChild(figure(C.t("机构", "Institutions"), f.institutions, "institutions", "#/institutions"));
      figures.appendChild(figure(C.t("在编人员（人）", "Persons"), f.persons, "persons", "#/people"));
      figures.appendChild(figure(C.t("核定编制", "Approved"), f.total.approved, "approved"));
      figures.appendChild(figure(C.t("实有（占编）", "Occupied"), f.total.occupied, "occupied"));
      figures.appendChild(figure(C.t("空编", "Vacant"), f.total.vacant, "vacant"));
      figures.appendChild(figure(C.t("领导职数 已配/核定", "Leaders filled / posts"), f.leaders.filled.suppressed || f.leaders.approved.suppressed
        ? f.leaders.filled : shown(f.leaders.filled) + " / " + shown(f.leaders.approved), "leaders"));
      var known = C.enumValues("QuotaType");
      var types = Object.keys(f.byType).sort(function (a, b) { return known.indexOf(a) - known.indexOf(b); });
      var chart = C.chart("quota-by-type", {
        type: "bar",
        data: { labels: types.map(function (t) { return C.quotaLabel(t) + (f.byType[t].suppressed ? " ※" : ""); }), datasets: [
          { label: C.t("实有", "occupied"), data: types.map(function (t) { return f.byType[t].occupied; }), backgroundColor: COLOURS[0], stack: "q" },
          { label: C.t("空编", "vacant"), data: types.map(function (t) { return f.byType[t].vacant; }), backgroundColor: COLOURS[1], stack: "q" },
          { label: C.t("核定", "approved"), data: types.map(function (t) { return f.byType[t].approved; }), backgroundColor: COLOURS[2] },
        ] },
        options: { scales: { x: { stacked: true }, y: { stacked: false, beginAtZero: true } } },
      }, types.map(function (t) { return C.go("institutions", null, { quotaType: t }); }));
      quota.body.appendChild(chart.box);
      var note = suppressedNote(types.filter(function (t) { return f.byType[t].suppressed; }).map(C.quotaLabel));
      if (note) quota.body.appendChild(note);
      chart.draw();
    }).catch(fail(quota.body));

    var byRegion = D.quotaUse().then(function (use) {
      var chart = C.chart("quota-by-region", {
        type: "bar",
        data: { labels: use.regions.map(function (r) { return r.name; }), datasets: use.types.map(function (t, i) {
          return { label: C.quotaLabel(t), data: use.regions.map(function (r) { var v = use.occupied[t][r.code]; return v === undefined ? 0 : v; }),
            backgroundColor: COLOURS[i % COLOURS.length], stack: "r" };
        }) },
        options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } },
      }, use.regions.map(function (r) { return C.go("institutions", null, { region: r.code }); }));
      regions.body.appendChild(chart.box);
      var note = suppressedNote(use.suppressed);
      if (note) regions.body.appendChild(note);
      chart.draw();
    }).catch(fail(regions.body));

    // Below the fold (at 1366×768): drawn when scrolled into view, so the first screen is not kept
    // waiting for the costlier statistics (the forecast computes every person's retirement date).
    var lazy = [];
    function whenVisible(into, load) {
      into.el.setAttribute("data-lazy", "");
      var loaded = new Promise(function (resolve) {
        var watch = new IntersectionObserver(function (entries) {
          if (!entries.some(function (e) { return e.isIntersecting; })) return;
          watch.disconnect();
          Promise.resolve(load()).then(function () { into.el.setAttribute("data-loaded", ""); resolve(); });
        });
        watch.observe(into.el);
      });
      lazy.push(loaded);
    }
    whenVisible(schooling, function () {
      return D.education().then(function (e) {
        var chart = C.chart("education", {
          type: "bar",
          data: { labels: e.levels.map(function (l) { return l + (e.persons[l] === null ? " ※" : ""); }), datasets: [
            { label: C.t("人数", "persons"), data: e.levels.map(function (l) { return e.persons[l]; }), backgroundColor: COLOURS[5] }] },
          options: { scales: { y: { beginAtZero: true } } },
        }, e.levels.map(function () { return C.go("people"); }));
        schooling.body.appendChild(chart.box);
        var note = suppressedNote(e.suppressed);
        if (note) schooling.body.appendChild(note);
        chart.draw();
      }).catch(fail(schooling.body));
    });

    function alertChart(into, name, load, param) {
      return load().then(function (rows) {
        rows = rows.filter(function (r) { return r.total > 0; });
        if (!rows.length) { into.body.appendChild(h("p.muted", C.t("没有预警", "No alerts"))); return; }
        var chart = C.chart(name, {
          type: "bar",
          data: { labels: rows.map(function (r) { return r.label; }), datasets: [
            { label: C.t("待处理", "open"), data: rows.map(function (r) { return r.open; }), backgroundColor: COLOURS[3] },
            { label: C.t("其中严重", "of them severe"), data: rows.map(function (r) { return r.severeOpen; }), backgroundColor: COLOURS[1] },
          ] },
          options: { indexAxis: "y", scales: { x: { beginAtZero: true } } },
        }, rows.map(function (r) { var p = { status: "OPEN" }; p[param] = r.key; return C.go("alerts", null, p); }));
        chart.box.style.height = Math.max(260, rows.length * 26 + 60) + "px"; // a readable bar per row
        into.body.appendChild(chart.box);
        chart.draw();
      }).catch(fail(into.body));
    }
    var alerts = C.can("Query.alertSummary") ? Promise.all([
      alertChart(rules, "alerts-by-rule", D.alertsByRule, "rule"),
      alertChart(banners, "alerts-by-banner", D.alertsByBanner, "region"),
    ]) : null;

    function series(into, name, load, type, label, x, y, link) {
      return load().then(function (rows) {
        if (rows === null) {
          into.body.appendChild(h("p.muted.unavailable", C.t("本角色无权查看此项。", "Not available to this role.")));
          return;
        }
        var chart = C.chart(name, { type: type, data: { labels: rows.map(x), datasets: [
          { label: label, data: rows.map(y), backgroundColor: COLOURS[0], borderColor: COLOURS[0] }] },
        options: { scales: { y: { beginAtZero: true } } } }, link ? rows.map(link) : null);
        into.body.appendChild(chart.box);
        chart.draw();
      }).catch(fail(into.body));
    }
    whenVisible(retirement, function () {
      return series(retirement, "retirement-curve", D.retirementCurve, "bar", C.t("退休人数", "persons retiring"),
        function (r) { return String(r.year); }, function (r) { return r.persons; }, null);
    });
    whenVisible(trend, function () {
      return series(trend, "headcount-trend", D.headcountTrend, "line", C.t("在编人数", "persons"),
        function (r) { return r.month; }, function (r) { return r.value; }, function () { return C.go("people"); });
    });

    // Said once, under the figures, when any answer came restricted (aggregate-only access).
    function restrictedNote() {
      if (!D.restricted || document.getElementById("restricted")) return;
      figures.appendChild(h("p.hint#restricted", C.t("仅汇总授权：人数过少的格已抑制（标“已抑制”），计数取整。",
        "Aggregate-only access: cells with too few people are suppressed (marked), counts rounded.")));
    }
    // Pay this month: one grouped statement at finance (`stats` by MONTH), for roles that may read pay.
    var paid = D.mayReadPay() ? D.payThisMonth().then(function (p) {
      if (p) pay.appendChild(figure(C.t("工资总额（应发） ", "Gross pay ") + p.month, p.gross.suppressed ? p.gross
        : "¥" + (p.gross / 100).toLocaleString(C.lang === "en" ? "en-US" : "zh-CN", { minimumFractionDigits: 2, maximumFractionDigits: 2 }), "pay"));
    }).catch(fail(pay)) : null;
    var done = Promise.all([headline, byRegion, alerts, paid]).then(function () {
      restrictedNote();
      main.setAttribute("data-rendered-ms", String(Math.round(performance.now() - started)));
    });
    Promise.all(lazy.concat([done])).then(function () {
      restrictedNote();
      main.setAttribute("data-complete-ms", String(Math.round(performance.now() - started)));
    });
    return done;
  };
})();
