// Institutions and people: search by name or code; an institution's quotas, posts, people and alerts;
// a person across the departments, with the masks the caller's role gets (the hub applies them).
(function () {
  "use strict";
  var C = window.HubConsole, h = C.h;
  var CODE = /^\d{6,}$|^[0-9A-Z]{18}$/;

  function searchForm(page, params, extra) {
    var input = h("input#search", { type: "search", name: "q", value: params.q || "", size: 30,
      placeholder: C.t("名称或代码", "name or code") });
    var form = h("form.filters", { role: "search", onsubmit: function (event) {
      event.preventDefault();
      var p = {};
      new FormData(form).forEach(function (v, k) { if (v) p[k] = v; });
      window.location.hash = C.go(page, null, p);
    } }, h("label", { for: "search" }, C.t("搜索", "Search"), input), extra || null, h("button", { type: "submit" }, C.t("搜索", "Search")));
    return form;
  }
  function quotaSelect(value) {
    return h("label", { for: "quotaType" }, C.t("编制类型", "Quota type"), h("select#quotaType", { name: "quotaType" },
      h("option", { value: "" }, C.t("全部", "all")),
      C.enumValues("QuotaType").map(function (t) { return h("option", { value: t, selected: t === value }, C.quotaLabel(t)); })));
  }
  // An ID number, linked to the person's page when the role sees it whole and may look persons up.
  function personCell(id) { return id.indexOf("*") < 0 && C.can("Query.person") ? C.link(C.go("person", id), id) : id; }
  function sum(quotas, key) { return (quotas || []).reduce(function (n, q) { return n + (q[key] || 0); }, 0); }

  C.pages.institutions = function (main, arg, params) {
    main.appendChild(h("h1", C.t("机构", "Institutions")));
    var hidden = params.region ? h("input", { type: "hidden", name: "region", value: params.region }) : null;
    main.appendChild(searchForm("institutions", params, [quotaSelect(params.quotaType), hidden]));
    var q = (params.q || "").trim();
    if (CODE.test(q)) {
      window.location.replace(C.go("institution", q));
      return null;
    }
    var query = "query($name: String, $region: String, $quotaType: QuotaType, $after: String) { institutions(first: 100, " +
      "after: $after, name: $name, regionCode: $region, quotaType: $quotaType) { totalCount pageInfo { hasNextPage endCursor } " +
      "edges { node { " + C.sel("Institution", ["code", "name", "regionName", "type", ["quotas", "", ["quotaType", "approved", "occupied", "vacant"]]]) + " } } } }";
    return C.q(query, { name: q || null, region: params.region || null, quotaType: params.quotaType || null, after: params.after || null })
      .then(function (data) {
        var found = data.institutions;
        main.appendChild(h("p", { "data-total": found.totalCount }, C.t("共 ", "") + C.number(found.totalCount) + C.t(" 个机构", " institutions"),
          params.region ? " · " + params.region : ""));
        main.appendChild(h("div.card", C.table([C.t("代码", "Code"), C.t("名称", "Name"), C.t("旗县区", "Region"), C.t("类型", "Type"),
          "#" + C.t("核定", "Approved"), "#" + C.t("实有", "Occupied"), "#" + C.t("空编", "Vacant")], found.edges.map(function (e) {
          var n = e.node;
          return [C.link(C.go("institution", n.code), n.code), n.name || "—", n.regionName || "—", n.type || "—",
            sum(n.quotas, "approved"), sum(n.quotas, "occupied"), sum(n.quotas, "vacant")];
        }))));
        if (found.pageInfo.hasNextPage) {
          main.appendChild(C.link(C.go("institutions", null, Object.assign({}, params, { after: found.pageInfo.endCursor })), C.t("下一页", "Next page")));
        }
      });
  };

  C.pages.institution = function (main, code) {
    var query = "query($code: String!) { institution(code: $code) { " + C.sel("Institution", ["code", "name", "regionName", "type", "rank",
      "funding", "schoolType", "students", "establishedOn", ["parent", "", ["code", "name"]], ["children", "", ["code", "name"]],
      ["quotas", "", ["quotaType", "approved", "occupied", "vacant", "over", "document", "approvedOn"]],
      ["leadershipPosts", "", ["level", "scope", "approved", "filled"]],
      ["people", "", ["idNumber", "name", "sex"]]]) + " } }";
    return C.gql(query, { code: code }).then(function (answer) {
      var i = answer.data.institution;
      if (!i) { main.appendChild(h("p.error", C.t("未找到机构 ", "No institution ") + code)); return null; }
      main.appendChild(h("h1", i.name || i.code, " ", h("span.muted", i.code)));
      answer.errors.forEach(function (e) { main.appendChild(h("p.error", C.pick(e.message))); });
      main.appendChild(h("div.card", h("dl", [[C.t("旗县区", "Region"), i.regionName], [C.t("类型", "Type"), i.type], [C.t("级别", "Rank"), i.rank],
        [C.t("经费", "Funding"), i.funding], [C.t("上级", "Parent"), i.parent ? C.link(C.go("institution", i.parent.code), i.parent.name || i.parent.code) : null]]
        .filter(function (row) { return row[1]; }).map(function (row) { return [h("dt", row[0]), h("dd", row[1])]; }))));
      main.appendChild(h("div.grid",
        h("section.card#quotas", h("h2", C.t("编制", "Quotas")), C.table([C.t("类型", "Type"), "#" + C.t("核定", "Approved"), "#" + C.t("实有", "Occupied"),
          "#" + C.t("空编", "Vacant"), "#" + C.t("超编", "Over"), C.t("文号", "Document")], (i.quotas || []).map(function (q) {
          return [C.quotaLabel(q.quotaType), q.approved, q.occupied, q.vacant, q.over, q.document || ""];
        }))),
        h("section.card#posts", h("h2", C.t("领导职数", "Leadership posts")), C.table([C.t("层级", "Level"), C.t("范围", "Scope"),
          "#" + C.t("核定", "Approved"), "#" + C.t("已配", "Filled")], (i.leadershipPosts || []).map(function (p) {
          return [p.level, p.scope, p.approved, p.filled];
        })))));
      var people = i.people || [];
      main.appendChild(h("section.card#people", h("h2", C.t("人员", "People"), " (" + people.length + ")"), C.table([C.t("身份证号", "ID number"),
        C.t("姓名", "Name"), C.t("性别", "Sex")], people.map(function (p) {
        return [personCell(p.idNumber), p.name || "—", p.sex || ""];
      }))));
      var alerts = h("section.card#institution-alerts", h("h2", C.t("预警", "Alerts")));
      main.appendChild(alerts);
      if (!C.can("Query.alerts")) return null;
      return C.q("query($code: String) { alerts(first: 100, institutionCode: $code) { totalCount edges { node { " + C.alertFields() + " } } } " +
        (C.can("Query.freezes") ? "freezes(institutionCode: $code) { " + C.scalars("Freeze") + " } " : "") + "}", { code: i.code })
        .then(function (data) {
          alerts.appendChild(C.alertRows(data.alerts.edges.map(function (e) { return e.node; }), C.render));
          if (data.freezes && data.freezes.length) alerts.appendChild(C.freezeRows(data.freezes, C.render));
        });
    });
  };

  C.pages.people = function (main, arg, params) {
    main.appendChild(h("h1", C.t("人员", "People")));
    main.appendChild(searchForm("people", params));
    var q = (params.q || "").trim();
    var id = window.HubIds.normalize(q);
    if (id && !window.HubIds.problem(id)) {
      window.location.replace(C.go("person", id));
      return null;
    }
    var query = "query($name: String, $after: String) { people(first: 100, after: $after, name: $name) { totalCount " +
      "pageInfo { hasNextPage endCursor } edges { node { " + C.sel("Person", ["idNumber", "name", "sex", ["institution", "", ["code", "name"]]]) + " } } } }";
    return C.q(query, { name: q || null, after: params.after || null }).then(function (data) {
      var found = data.people;
      main.appendChild(h("p", { "data-total": found.totalCount }, C.t("共 ", "") + C.number(found.totalCount) + C.t(" 人", " persons")));
      main.appendChild(h("div.card", C.table([C.t("身份证号", "ID number"), C.t("姓名", "Name"), C.t("性别", "Sex"), C.t("机构", "Institution")],
        found.edges.map(function (e) {
          var p = e.node;
          return [personCell(p.idNumber),
            p.name || "—", p.sex || "", p.institution ? C.link(C.go("institution", p.institution.code), p.institution.name || p.institution.code) : "—"];
        }))));
      if (found.pageInfo.hasNextPage) {
        main.appendChild(C.link(C.go("people", null, Object.assign({}, params, { after: found.pageInfo.endCursor })), C.t("下一页", "Next page")));
      }
    });
  };

  // One department's record of a person as a definition list (whatever fields the role may read).
  function record(title, value) {
    if (value === null || value === undefined) return null;
    var rows = Array.isArray(value) ? value : [value];
    return h("section.card", h("h2", title), rows.map(function (row) {
      return h("dl", Object.keys(row).map(function (k) {
        var v = row[k];
        if (v && typeof v === "object") v = Array.isArray(v) ? v.map(function (x) { return JSON.stringify(x); }).join("; ") : (v.name || v.code || JSON.stringify(v));
        return [h("dt", k), h("dd", v === null ? "—" : String(v))];
      }));
    }));
  }
  C.pages.person = function (main, idNumber) {
    var query = "query($id: String!) { person(idNumber: $id) { " + C.sel("Person", ["idNumber", "name", "nameSource", "sex", "birthDate",
      "retirementDate", ["institution", "", ["code", "name"]],
      ["registry", "", ["slotId", "name", "sex", "birth", "quotaType", "enteredOn", "leftOn", "status", ["institution", "", ["code", "name"]]]],
      ["personnel", "", ["personNo", "name", "birth", "category", "status", "workStart", ["institution", "", ["code", "name"]],
        ["posts", "", ["category", "grade", "startOn"]], ["titles", "", ["title", "level"]]]],
      ["cadre", "", ["cadreId", "name", "birth", ["appointments", "", ["title", "role", "startOn", "endOn"]]]],
      ["payroll", "", ["onPayroll", "onQuota", ["entries", "(last: 3)", ["month", "gross", "net"]]]]]) + " } }";
    return C.gql(query, { id: idNumber }).then(function (answer) {
      var p = answer.data.person;
      answer.errors.forEach(function (e) { main.appendChild(h("p.error", C.pick(e.message))); });
      if (!p) { main.appendChild(h("p.error", C.t("未找到人员", "No such person"))); return; }
      main.appendChild(h("h1", p.name || "—", " ", h("span.muted#person-id", p.idNumber)));
      var own = {};
      ["sex", "birthDate", "retirementDate", "nameSource"].forEach(function (k) { if (k in p) own[k] = p[k]; });
      if (p.institution) own.institution = p.institution;
      main.appendChild(h("div.grid#departments", record(C.t("人员", "Person"), own),
        record(C.t("实名制（编办）", "Registry (establishment)"), p.registry),
        record(C.t("人事档案（人社）", "Personnel (HR)"), p.personnel),
        record(C.t("干部档案（组织）", "Cadre file (organization)"), p.cadre),
        record(C.t("工资（财政）", "Payroll (finance)"), p.payroll && Object.assign({}, p.payroll, { entries: p.payroll.entries }))));
    });
  };
})();
