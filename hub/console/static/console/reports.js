// Reports: the saved reports the role may run (`reports`), run one with its variables (`runReport`),
// export it as CSV or XLSX (`GET /export/<report>.<csv|xlsx>?<variable>=<value>`, fetched with the
// tab's credentials and handed to the browser as a download), and save a report (`saveReport`).
(function () {
  "use strict";
  var C = window.HubConsole, h = C.h;

  // The variables typed as JSON: an object, or an error message.
  function parseVariables(text) {
    if (!text.trim()) return {};
    try {
      var value = JSON.parse(text);
      if (value && typeof value === "object" && !Array.isArray(value)) return value;
    } catch (e) { /* reported below */ }
    return { error: C.t("变量须为 JSON 对象，如 {\"first\": 20}", "Variables must be a JSON object, e.g. {\"first\": 20}") };
  }
  // URL parameters of an export: strings as given, other values as JSON (how the hub reads them).
  function exportUrl(name, format, variables) {
    var query = new URLSearchParams();
    Object.keys(variables).forEach(function (k) {
      var v = variables[k];
      if (v !== null && v !== undefined) query.set(k, typeof v === "string" ? v : JSON.stringify(v));
    });
    return "/export/" + encodeURIComponent(name) + "." + format + (query.toString() ? "?" + query.toString() : "");
  }
  C.download = function (url, filename) {
    return fetch(url, { headers: C.credentials() }).then(function (response) {
      if (!response.ok) {
        return response.json().catch(function () { return {}; }).then(function (body) {
          throw new Error((body.errors || []).map(function (e) { return e.message; }).join("\n") || response.status + " " + response.statusText);
        });
      }
      return response.blob();
    }).then(function (blob) {
      var a = h("a", { href: URL.createObjectURL(blob), download: filename });
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(function () { URL.revokeObjectURL(a.href); }, 60000);
      return blob.size;
    });
  };

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
  // A row's leaf values, nested fields joined with "·" (as the export names its columns).
  function flatten(row, prefix, into) {
    Object.keys(row).forEach(function (k) {
      var v = row[k], name = prefix ? prefix + "·" + k : k;
      if (v && typeof v === "object" && !Array.isArray(v)) flatten(v, name, into);
      else into[name] = Array.isArray(v) ? v.map(function (x) { return typeof x === "object" ? JSON.stringify(x) : x; }).join("；") : v;
    });
    return into;
  }
  function rowsTable(value) {
    var rows = firstRows(value);
    if (!rows || !rows.length) return h("pre", JSON.stringify(value, null, 2));
    var flat = rows.map(function (r) { return flatten(r, "", {}); });
    var keys = Object.keys(flat[0]);
    return h("div", h("p.muted", { "data-rows": String(rows.length) }, C.t("行数 ", "rows ") + rows.length),
      C.table(keys, flat.map(function (r) { return keys.map(function (k) { return r[k] === null || r[k] === undefined ? "" : r[k]; }); })));
  }

  function runner(report, output) {
    var variables = h("textarea#report-variables", { rows: 3, cols: 60, spellcheck: "false" });
    variables.value = JSON.stringify(report.variables || {});
    var status = h("span.muted#report-status");
    function current() {
      var v = parseVariables(variables.value);
      if (v.error) { status.textContent = v.error; return null; }
      status.textContent = "";
      return v;
    }
    function run() {
      var v = current();
      if (!v) return null;
      output.textContent = "";
      output.removeAttribute("data-report");
      return C.gql("query($r: String!, $v: JSON) { runReport(report: $r, variables: $v) { data errors } }", { r: report.name, v: v })
        .then(function (answer) {
          var result = answer.data.runReport;
          (result.errors || []).concat(answer.errors).forEach(function (e) { output.appendChild(h("p.error", C.pick(e.message || String(e)))); });
          if (result.data) output.appendChild(rowsTable(result.data));
          output.setAttribute("data-report", report.name);
        }, function (error) { output.appendChild(h("p.error", C.pick(error.message))); });
    }
    function exporter(format) {
      return function () {
        var v = current();
        if (!v) return;
        status.textContent = C.t("导出中…", "exporting…");
        C.download(exportUrl(report.name, format, v), report.name + "." + format).then(function (size) {
          status.textContent = C.t("已下载 ", "downloaded ") + report.name + "." + format + " (" + C.number(size) + " B)";
          status.setAttribute("data-downloaded", format);
        }, function (error) { status.textContent = C.pick(error.message); });
      };
    }
    return h("section.card#report-runner", { "data-report": report.name },
      h("h2", report.name, " ", h("span.muted", C.pick(report.description || ""))),
      h("details", h("summary", C.t("查询", "Query")), h("pre", report.document || "")),
      h("label", { for: "report-variables" }, C.t("变量（JSON）", "Variables (JSON)")), variables,
      h("div.row",
        h("button#report-run", { type: "button", onclick: run }, C.t("运行", "Run")),
        h("button.secondary#report-csv", { type: "button", onclick: exporter("csv") }, C.t("导出 CSV", "Export CSV")),
        h("button.secondary#report-xlsx", { type: "button", onclick: exporter("xlsx") }, C.t("导出 XLSX", "Export XLSX")),
        status));
  }

  function saveForm(done) {
    function field(id, label, control) { return h("div", h("label", { for: id }, label), control); }
    var name = h("input#save-name", { required: true, pattern: "[A-Za-z0-9_-]{1,64}", maxlength: 64, autocomplete: "off" });
    var description = h("input#save-description", { required: true, size: 50, placeholder: "中文 / English" });
    var documentText = h("textarea#save-document", { required: true, rows: 6, cols: 70, spellcheck: "false",
      placeholder: "query($first: Int, $after: String) { people(first: $first, after: $after) { pageInfo { hasNextPage endCursor } edges { node { idNumber name } } } }" });
    var variables = h("textarea#save-variables", { rows: 2, cols: 70, spellcheck: "false", placeholder: "{\"first\": 100}" });
    var status = h("span.muted#save-status");
    var form = h("form.card#save-report", { onsubmit: function (event) {
      event.preventDefault();
      var v = parseVariables(variables.value);
      if (v.error) { status.textContent = v.error; return; }
      status.textContent = "";
      C.gql("mutation($r: String!, $d: String!, $t: String!, $v: JSON, $k: String) { saveReport(report: $r, document: $d, " +
        "description: $t, variables: $v, idempotencyKey: $k) { name } }",
      { r: name.value.trim(), d: documentText.value, t: description.value, v: v, k: C.key() }).then(function (answer) {
        if (answer.errors.length) { status.textContent = answer.errors.map(function (e) { return C.pick(e.message); }).join("\n"); return; }
        done(answer.data.saveReport.name);
      }, function (error) { status.textContent = C.pick(error.message); });
    } },
    h("h2", C.t("保存报表", "Save a report")),
    field("save-name", C.t("报表名（字母、数字、_ -）", "Name (letters, digits, _ -)"), name),
    field("save-description", C.t("说明", "Description"), description),
    field("save-document", C.t("GraphQL 查询", "GraphQL query"), documentText),
    field("save-variables", C.t("默认变量（JSON）", "Default variables (JSON)"), variables),
    h("div.row", h("button#save-submit", { type: "submit" }, C.t("保存", "Save")), status));
    return form;
  }

  C.pages.reports = function (main, arg) {
    main.appendChild(h("h1", C.t("报表", "Reports")));
    if (!C.hasQuery("reports")) {
      main.appendChild(h("p.card.muted#unavailable", C.t("本角色无权使用报表。", "Reports are not available to this role.")));
      return null;
    }
    var fields = C.sel("SavedReport", ["name", "description", "ownerDepartment", "document", "variables", "updatedAt"]);
    return C.q("{ reports { " + fields + " } }").then(function (data) {
      var output = h("section.card#report-output");
      var chosen = data.reports.filter(function (r) { return r.name === arg; })[0];
      main.appendChild(h("div.card#report-list", { "data-total": String(data.reports.length) },
        data.reports.length ? C.table([C.t("报表", "Report"), C.t("说明", "Description"), C.t("所属部门", "Owner"), C.t("更新", "Updated")],
          data.reports.map(function (r) {
            return [C.link(C.go("reports", r.name), r.name), C.pick(r.description || ""), r.ownerDepartment || "—", (r.updatedAt || "").slice(0, 16).replace("T", " ")];
          })) : h("p.muted", C.t("没有本角色可运行的报表。", "No report this role may run."))));
      if (chosen) { main.appendChild(runner(chosen, output)); main.appendChild(output); }
      if (C.hasMutation("saveReport")) main.appendChild(saveForm(function (saved) { window.location.hash = C.go("reports", saved); }));
    });
  };
})();
