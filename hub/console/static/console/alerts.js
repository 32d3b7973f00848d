// Alerts: filter by rule, severity, banner and status; move an alert through its lifecycle with the
// hub's mutations (each with an idempotency key); see freezes and decide them.
(function () {
  "use strict";
  var C = window.HubConsole, h = C.h;
  // The lifecycle as the hub allows it (hub/supervision/alerts.py): status -> [mutation, label zh, label en, note required].
  var NEXT = {
    OPEN: [["acknowledgeAlert", "确认", "Acknowledge"], ["dismissAlert", "驳回", "Dismiss", true]],
    ACKNOWLEDGED: [["startRectifyingAlert", "开始整改", "Start rectifying"], ["resolveAlert", "已解决", "Resolve"],
      ["dismissAlert", "驳回", "Dismiss", true]],
    RECTIFYING: [["resolveAlert", "已解决", "Resolve"], ["dismissAlert", "驳回", "Dismiss", true]],
  };
  var FREEZE_NEXT = {
    PROPOSED: [["confirmFreeze", "确认冻结", "Confirm"], ["rejectFreeze", "不予冻结", "Reject"]],
    ACTIVE: [["unfreezeInstitution", "解冻", "Lift"]],
  };
  var STATUS = { OPEN: ["待处理", "open"], ACKNOWLEDGED: ["已确认", "acknowledged"], RECTIFYING: ["整改中", "rectifying"],
    RESOLVED: ["已解决", "resolved"], DISMISSED: ["已驳回", "dismissed"], RESOLVED_BY_DATA: ["数据已更正", "resolved by data"],
    PROPOSED: ["建议冻结", "proposed"], ACTIVE: ["冻结中", "frozen"], LIFTED: ["已解冻", "lifted"], REJECTED: ["不予冻结", "rejected"] };
  C.statusLabel = function (s) { var l = STATUS[s]; return l ? C.t(l[0], l[1]) : s; };

  function select(name, label, options, value) {
    var id = "filter-" + name;
    return h("label", { for: id }, label, h("select", { id: id, name: name },
      h("option", { value: "" }, C.t("全部", "all")),
      options.map(function (o) { return h("option", { value: o[0], selected: o[0] === value }, o[1]); })));
  }

  // The rows of alerts (a list of Alert objects) with their lifecycle buttons; `after` re-renders.
  C.alertRows = function (alerts, after) {
    var masked = !C.can("Alert.idNumber");
    return C.table([C.t("规则", "Rule"), C.t("级别", "Severity"), C.t("状态", "Status"), C.t("机构", "Institution"),
      C.t("说明", "Message"), C.t("月份", "Months"), C.t("操作", "Actions")], alerts.map(function (a) {
      var note = h("input", { type: "text", "aria-label": C.t("备注", "note"), placeholder: C.t("备注", "note"), size: 12 });
      var buttons = (NEXT[a.status] || []).filter(function (n) { return C.hasMutation(n[0]); }).map(function (n) {
        return h("button.secondary", { type: "button", "data-action": n[0], "data-alert": a.id, onclick: function (event) {
          if (n[3] && !note.value.trim()) { note.setAttribute("aria-invalid", "true"); note.focus(); return; }
          event.target.disabled = true;
          var mutation = "mutation($id: ID!, $note: String, $key: String) { " + n[0] + "(id: $id, note: $note, idempotencyKey: $key) { id status } }";
          C.q(mutation, { id: a.id, note: note.value.trim() || null, key: C.key() }).then(after, function (error) {
            event.target.disabled = false;
            C.notice(error.message);
          });
        } }, C.t(n[1], n[2]));
      });
      return [a.rule + " " + (a.ruleTitle ? C.pick(a.ruleTitle) : ""), h("span.badge." + a.severity, a.severity),
        h("span", { "data-status": a.status }, C.statusLabel(a.status)),
        a.institutionCode ? C.link(C.go("institution", a.institutionCode), a.institutionCode) : "—",
        h("span", C.pick(a.message || ""), a.idNumber && !masked && a.idNumber.indexOf("*") < 0
          ? [" ", C.link(C.go("person", a.idNumber), C.t("人员", "person"))] : null),
        a.firstMonth === a.lastMonth ? a.firstMonth : a.firstMonth + "–" + a.lastMonth,
        buttons.length ? h("div.row", note, buttons) : ""];
    }));
  };
  C.alertFields = function () {
    return C.sel("Alert", ["id", "rule", "ruleTitle", "severity", "status", "idNumber", "institutionCode", "regionCode",
      "firstMonth", "lastMonth", "message"]);
  };

  C.freezeRows = function (freezes, after) {
    return C.table([C.t("机构", "Institution"), C.t("状态", "Status"), C.t("冻结", "Frozen"), C.t("原因", "Reason"),
      C.t("提出", "By"), C.t("操作", "Actions")], freezes.map(function (f) {
      var buttons = (FREEZE_NEXT[f.status] || []).filter(function (n) { return C.hasMutation(n[0]); }).map(function (n) {
        return h("button.secondary", { type: "button", "data-action": n[0], "data-freeze": f.id, onclick: function (event) {
          event.target.disabled = true;
          C.q("mutation($id: ID!, $key: String) { " + n[0] + "(id: $id, idempotencyKey: $key) { id status } }", { id: f.id, key: C.key() })
            .then(after, function (error) { event.target.disabled = false; C.notice(error.message); });
        } }, C.t(n[1], n[2]));
      });
      return [C.link(C.go("institution", f.institutionCode), f.institutionCode), C.statusLabel(f.status),
        f.kinds ? f.kinds.join(", ") : [f.hiring ? C.t("进人 ", "hiring ") : "", f.payroll ? C.t("工资", "payroll") : ""],
        f.reason, f.createdBy, buttons];
    }));
  };

  C.pages.alerts = function (main, arg, params) {
    main.appendChild(h("h1", C.t("预警", "Alerts")));
    var list = h("div#alert-list.card");
    var freezes = h("section#freezes.card");
    return Promise.all([C.q("{ supervisionRules { id titleZh titleEn } }"), C.data.regions()]).then(function (both) {
      var rules = both[0].supervisionRules.map(function (r) { return [r.id, r.id + " " + C.t(r.titleZh, r.titleEn)]; });
      var regions = Object.keys(both[1]).filter(function (code) { return code !== "152900"; }).map(function (code) { return [code, both[1][code]]; });
      var form = h("form.filters#alert-filters", { onsubmit: function (event) {
        event.preventDefault();
        var p = {};
        new FormData(form).forEach(function (v, k) { if (v) p[k] = v; });
        window.location.hash = C.go("alerts", null, p);
      } },
      select("rule", C.t("规则", "Rule"), rules, params.rule),
      select("severity", C.t("级别", "Severity"), C.enumValues("Severity").map(function (s) { return [s, s]; }), params.severity),
      select("region", C.t("旗县区", "Banner"), regions, params.region),
      select("status", C.t("状态", "Status"), C.enumValues("AlertStatus").map(function (s) { return [s, C.statusLabel(s)]; }), params.status),
      h("button", { type: "submit" }, C.t("筛选", "Filter")));
      main.appendChild(form);
      main.appendChild(list);
      main.appendChild(freezes);
      var query = "query($rule: [String!], $severity: [Severity!], $status: [AlertStatus!], $region: String, $after: String) { " +
        "alerts(first: 50, after: $after, rule: $rule, severity: $severity, status: $status, regionCode: $region) { totalCount " +
        "pageInfo { hasNextPage endCursor } edges { node { " + C.alertFields() + " } } } }";
      var variables = { rule: params.rule ? [params.rule] : null, severity: params.severity ? [params.severity] : null,
        status: params.status ? [params.status] : null, region: params.region || null, after: params.after || null };
      var loadFreezes = C.can("Query.freezes") ? C.q("{ freezes { " + C.scalars("Freeze") + " } }").then(function (data) {
        freezes.appendChild(h("h2", C.t("冻结", "Freezes")));
        freezes.appendChild(data.freezes.length ? C.freezeRows(data.freezes, C.render) : h("p.muted", C.t("没有冻结记录", "No freezes")));
      }) : null;
      return Promise.all([C.q(query, variables).then(function (data) {
        var found = data.alerts;
        list.appendChild(h("p", { "data-total": found.totalCount }, C.t("共 ", "") + C.number(found.totalCount) + C.t(" 条", " alerts")));
        list.appendChild(C.alertRows(found.edges.map(function (e) { return e.node; }), C.render));
        if (found.pageInfo.hasNextPage) {
          list.appendChild(C.link(C.go("alerts", null, Object.assign({}, params, { after: found.pageInfo.endCursor })), C.t("下一页", "Next page")));
        }
      }), loadFreezes]);
    });
  };
})();
