// Reports: the saved reports (`reports`), run one (`runReport`) and export it as CSV or XLSX
// (`GET /export/<report>.<csv|xlsx>`, fetched with the caller's credentials). Written against the
// statistics API; while the hub has none of it the page says so.
(function () {
  "use strict";
  var C = window.HubConsole, h = C.h;

  function download(name, format) {
    return fetch("/export/" + encodeURIComponent(name) + "." + format, { headers: C.credentials() }).then(function (response) {
      if (!response.ok) return response.text().then(function (text) { throw new Error(text); });
      return response.blob();
    }).then(function (blob) {
      var a = h("a", { href: URL.createObjectURL(blob), download: name + "." + format });
      document.body.appendChild(a);
      a.click();
      a.remove();
    }).catch(function (error) { C.notice(error.message); });
  }
  // The first list of objects inside an answer (a connection's edges give their nodes), else null.
  function firstRows(value) {
    if (Array.isArray(value)) {
      if (value.length && value[0] && typeof value[0] === "object") return value[0].node ? value.map(function (e) { return e.node; }) : value;
      return null;
    }
    if (value && typeof value === "object") {
      var keys = Object.keys(value);
      for (var i = 0; i < keys.length; i++) { var found = firstRows(value[keys[i]]); if (found) return found; }
    }
    return null;
  }
  function rowsTable(value) {
    var rows = firstRows(value);
    if (!rows || !rows.length || typeof rows[0] !== "object") return h("pre", JSON.stringify(value, null, 2));
    var keys = Object.keys(rows[0]);
    return C.table(keys, rows.map(function (r) { return keys.map(function (k) { return typeof r[k] === "object" ? JSON.stringify(r[k]) : r[k]; }); }));
  }

  C.pages.reports = function (main) {
    main.appendChild(h("h1", C.t("报表", "Reports")));
    if (!C.hasQuery("reports")) {
      main.appendChild(h("p.card.muted#unavailable", C.t("本枢纽尚未提供报表（reports、runReport）。", "This hub does not offer reports (reports, runReport) yet.")));
      return null;
    }
    var type = C.fieldType(C.schema.query, "reports");
    return C.q("{ reports { " + C.scalars(type.name) + " } }").then(function (data) {
      var output = h("section.card#report-output");
      var run = C.field(C.schema.query, "runReport") || C.field(C.schema.mutation || "", "runReport");
      var key = run ? run.args.filter(function (a) { return a.type.kind === "NON_NULL"; })[0] : null;
      main.appendChild(h("div.card", C.table([C.t("报表", "Report"), C.t("说明", "Description"), C.t("操作", "Actions")], data.reports.map(function (r) {
        var name = r.name || r.id;
        return [name, C.pick(r.title || r.description || ""), h("div.row",
          run && key ? h("button", { type: "button", onclick: function () {
            var answerType = C.fieldType(C.field(C.schema.query, "runReport") ? C.schema.query : C.schema.mutation, "runReport");
            var inner = answerType.kind === "OBJECT" ? " { " + C.scalars(answerType.name) + " }" : "";
            var operation = (C.field(C.schema.query, "runReport") ? "query" : "mutation") + "($v: " + C.typeRef(key.type) + ") { runReport(" +
              key.name + ": $v)" + inner + " }";
            output.textContent = "";
            C.gql(operation, { v: name }).then(function (answer) {
              var result = answer.data.runReport;
              output.appendChild(rowsTable(result && result.data !== undefined ? result.data : result));
            },
              function (error) { output.appendChild(h("p.error", C.pick(error.message))); });
          } }, C.t("运行", "Run")) : null,
          h("button.secondary", { type: "button", onclick: function () { download(name, "csv"); } }, "CSV"),
          h("button.secondary", { type: "button", onclick: function () { download(name, "xlsx"); } }, "XLSX"))];
      }))));
      main.appendChild(output);
    });
  };
})();
