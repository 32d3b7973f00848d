// The one-window inbox (一网通办): the applications waiting for the caller's department, one
// application's input, history and decisions with approve / return / reject, and the form that
// submits a new application. Written against the workflow API (myTasks, application,
// decideApplication, submitApplication); while the hub has none of it the page says so. The form's
// checks work without it: the ID number's check digit as one types (ids.js) and the hub's precheck.
(function () {
  "use strict";
  var C = window.HubConsole, h = C.h;
  var DECISIONS = [["APPROVE", "同意", "Approve"], ["RETURN", "退回", "Return"], ["REJECT", "不同意", "Reject"]];

  function application() {
    var type = C.fieldType(C.schema.query, "application");
    return C.sel(type ? type.name : "Application", ["id", "kind", "state", "currentSteps", "submittedAt", "completedAt", "input",
      "institutionCode", ["precheck", "", ["allowed", ["blockers", "", ["code", "message"]], ["warnings", "", ["code", "message"]]]],
      ["institution", "", ["code", "name"]], ["person", "", ["idNumber", "name"]],
      ["history", "", ["step", "decision", "actor", "department", "at", "comment"]]]);
  }
  function unavailable(main, what) {
    main.appendChild(h("p.card.muted#unavailable", C.t("本枢纽尚未提供" + what + "。", "This hub does not offer " + what + " yet.")));
  }

  C.pages.inbox = function (main, id) {
    if (id) return detail(main, id);
    main.appendChild(h("h1", C.t("一网通办", "Inbox")));
    main.appendChild(h("p", C.link(C.go("submit"), C.t("提交新申请", "Submit a new application"))));
    if (!C.hasQuery("myTasks")) { unavailable(main, C.t("待办（myTasks）", "the task list (myTasks)")); return null; }
    var type = C.fieldType(C.schema.query, "myTasks");
    var connection = !!C.field(type.name, "edges");
    var inner = application();
    var query = "{ myTasks(first: 50) { " + (connection ? "edges { node { " + inner + " } }" : inner) + " } }";
    return C.q(query).then(function (data) {
      var tasks = connection ? data.myTasks.edges.map(function (e) { return e.node; }) : data.myTasks;
      main.appendChild(h("div.card#tasks", tasks.length ? C.table([C.t("编号", "Id"), C.t("事项", "Kind"), C.t("状态", "State"),
        C.t("机构", "Institution"), C.t("提交", "Submitted")], tasks.map(function (a) {
        return [C.link(C.go("inbox", a.id), a.id), a.kind, a.state, a.institution ? a.institution.name || a.institution.code : a.institutionCode || "—",
          a.submittedAt || ""];
      })) : h("p.muted", C.t("没有待办", "Nothing to do"))));
    });
  };

  function detail(main, id) {
    if (!C.hasQuery("application")) { unavailable(main, C.t("申请查询（application）", "applications (application)")); return null; }
    return C.q("query($id: ID!) { application(id: $id) { " + application() + " } }", { id: id }).then(function (data) {
      var a = data.application;
      main.appendChild(h("h1", C.t("申请 ", "Application ") + a.id, " ", h("span.badge", a.state)));
      main.appendChild(h("section.card", h("h2", C.t("申请内容", "Input")), h("pre", JSON.stringify(a.input, null, 2))));
      if (a.precheck) {
        main.appendChild(h("section.card#precheck", h("h2", C.t("预检", "Prechecks")), a.precheck.allowed ? h("p.ok", C.t("通过", "passed")) : null,
          a.precheck.blockers.concat(a.precheck.warnings).map(function (b) { return h("p", b.code + " " + C.pick(b.message)); })));
      }
      main.appendChild(h("section.card", h("h2", C.t("办理经过", "History")), C.table([C.t("环节", "Step"), C.t("部门", "Department"),
        C.t("决定", "Decision"), C.t("经办人", "Actor"), C.t("时间", "At"), C.t("意见", "Comment")], (a.history || []).map(function (e) {
        return [e.step, e.department, e.decision, e.actor, e.at, e.comment || ""];
      }))));
      if (!C.hasMutation("decideApplication")) return;
      var comment = h("textarea#comment", { rows: 2, cols: 60 });
      main.appendChild(h("form.card#decide", { onsubmit: function (event) { event.preventDefault(); } },
        h("h2", C.t("办理", "Decide")), h("label", { for: "comment" }, C.t("意见", "Comment"), comment),
        h("div.row", DECISIONS.map(function (d) {
          return h("button" + (d[0] === "APPROVE" ? "" : ".secondary"), { type: "button", "data-decision": d[0], onclick: function () {
            C.q("mutation($id: ID!, $comment: String, $key: String) { decideApplication(id: $id, decision: " + d[0] +
              ", comment: $comment, idempotencyKey: $key) { id state } }", { id: a.id, comment: comment.value || null, key: C.key() })
              .then(function () { window.location.hash = C.go("inbox"); }, function (error) { C.notice(error.message); });
          } }, C.t(d[1], d[2]));
        }))));
    });
  }

  // The kinds of application and their input fields, as the workflow declares them (hub/workflow/kinds/*.yaml
  // on the workflow branch); a field's type says how it is checked as one types.
  var KINDS = {
    ONBOARDING: { title: ["入编", "onboarding"], precheck: "HIRE", fields: [
      ["institutionCode", "institution", "机构代码", "institution code"], ["idNumber", "id_number", "身份证号", "ID number"],
      ["name", "text", "姓名", "name"], ["quotaType", "quota_type", "编制类型", "quota type"],
      ["enteredOn", "date", "入编日期", "entering date"], ["payFrom", "month", "起薪月份", "pay from"],
      ["category", ["CIVIL_SERVANT", "CIVIL_SERVICE_PI", "PI_MANAGEMENT", "PI_TECHNICAL", "PI_WORKER"], "人员身份", "personnel category"],
      ["postCategory", ["MANAGEMENT", "TECHNICAL", "WORKER"], "岗位类别", "post category"],
      ["postGrade", [1, 13], "岗位等级", "post grade"], ["payCategory", ["ADMINISTRATIVE", "PUBLIC_INSTITUTION"], "工资类别", "payroll category"]] },
    LEAVING: { title: ["出编", "leaving"], precheck: "LEAVE", fields: [
      ["institutionCode", "institution", "机构代码", "institution code"], ["idNumber", "id_number", "身份证号", "ID number"],
      ["leftOn", "date", "出编日期", "leaving date"], ["reason", ["RETIRED", "RESIGNED", "DECEASED", "TRANSFERRED_OUT"], "出编原因", "reason"],
      ["payStopFrom", "month", "停薪月份", "pay stops from"]] },
    VACANCY_PLAN: { title: ["空编补员计划", "vacancy plan"], precheck: null, fields: [
      ["institutionCode", "institution", "机构代码", "institution code"], ["quotaType", "quota_type", "编制类型", "quota type"],
      ["places", [1, 500], "计划名额", "places"], ["document", "optional", "批准文号", "approval document"]] },
  };
  C.kinds = KINDS;

  // What is wrong with one field's value (a message), "" when it is fine.
  function fieldProblem(type, value) {
    if (type === "optional") return "";
    if (!value) return C.t("必填", "required");
    if (type === "id_number") { var p = window.HubIds.problem(window.HubIds.normalize(value)); return p ? C.pick(p) : ""; }
    if (type === "month") return /^\d{4}-(0[1-9]|1[0-2])$/.test(value) ? "" : C.t("格式为 YYYY-MM", "as YYYY-MM");
    if (type === "date") return /^\d{4}-\d{2}-\d{2}$/.test(value) && !isNaN(Date.parse(value)) ? "" : C.t("格式为 YYYY-MM-DD", "as YYYY-MM-DD");
    if (Array.isArray(type) && typeof type[0] === "number") {
      var n = Number(value);
      return /^\d+$/.test(value) && n >= type[0] && n <= type[1] ? "" : C.t("须为 ", "must be ") + type[0] + "–" + type[1];
    }
    return "";
  }
  function control(name, type) {
    var id = "f-" + name;
    if (type === "quota_type" || (Array.isArray(type) && typeof type[0] === "string")) {
      var values = type === "quota_type" ? C.enumValues("QuotaType") : type;
      return h("select", { id: id, name: name }, h("option", { value: "" }, "—"), values.map(function (v) {
        return h("option", { value: v }, type === "quota_type" ? C.quotaLabel(v) : v);
      }));
    }
    return h("input", { id: id, name: name, autocomplete: "off", size: type === "id_number" || type === "institution" ? 20 : 12,
      type: type === "date" ? "date" : "text", placeholder: type === "month" ? "YYYY-MM" : null, "aria-describedby": id + "-check" });
  }

  // The new-application form: every field checked as one types; the hub's precheck and the
  // institution's vacant places shown before submitting; submit disabled while anything blocks.
  C.pages.submit = function (main, arg) {
    var kindName = KINDS[arg] ? arg : "ONBOARDING";
    var kind = KINDS[kindName];
    var submit = C.hasMutation("submitApplication");
    main.appendChild(h("h1", C.t("提交申请", "Submit an application")));
    main.appendChild(h("nav.row", { "aria-label": C.t("事项", "kinds") }, Object.keys(KINDS).map(function (k) {
      return h("a" + (k === kindName ? ".current" : ""), { href: C.go("submit", k) }, C.t(KINDS[k].title[0], KINDS[k].title[1]));
    })));
    var inputs = {}, checks = {};
    var rows = kind.fields.map(function (f) {
      inputs[f[0]] = control(f[0], f[1]);
      checks[f[0]] = h("span.hint", { id: "f-" + f[0] + "-check", "aria-live": "polite" });
      return h("label", { for: "f-" + f[0] }, C.t(f[2], f[3]), inputs[f[0]], checks[f[0]]);
    });
    var blockers = h("div#blockers", { "aria-live": "polite" });
    var button = h("button#f-submit", { type: "submit", disabled: true }, C.t("提交", "Submit"));
    function values() {
      var out = {}, ok = true;
      kind.fields.forEach(function (f) {
        var el = inputs[f[0]], raw = el.value.trim(), problem = fieldProblem(f[1], raw);
        if (raw || el === document.activeElement) {
          el.setAttribute("aria-invalid", problem ? "true" : "false");
          checks[f[0]].className = problem ? "error" : "hint";
          checks[f[0]].textContent = problem;
        }
        if (problem) ok = false;
        if (raw) out[f[0]] = f[1] === "id_number" ? window.HubIds.normalize(raw) : Array.isArray(f[1]) && typeof f[1][0] === "number" ? Number(raw) : raw;
      });
      return { input: out, ok: ok };
    }
    var pending = 0;
    function check() {
      var v = values(), input = v.input, mine = ++pending;
      button.disabled = true;
      blockers.textContent = "";
      if (!input.institutionCode) return;
      var asks = [];
      if (input.quotaType && C.can("Institution.quotas")) {
        asks.push(C.q("query($code: String!) { institution(code: $code) { quotas { quotaType vacant } } }", { code: input.institutionCode })
          .then(function (data) {
            var q = ((data.institution || {}).quotas || []).filter(function (x) { return x.quotaType === input.quotaType; })[0];
            return h("p.hint#vacant", C.t("该类型空编 ", "vacant places of this type: ") + (q ? q.vacant : 0));
          }));
      }
      if (kind.precheck && C.can("Query.precheck") && (kind.precheck !== "HIRE" || (input.idNumber && input.quotaType))) {
        asks.push(C.q("query($code: String!, $id: String, $type: QuotaType) { precheck(action: " + kind.precheck + ", institutionCode: $code, " +
          "idNumber: $id, quotaType: $type) { allowed blockers { code message } warnings { code message } } }",
        { code: input.institutionCode, id: input.idNumber || null, type: input.quotaType || null }).then(function (data) {
          var p = data.precheck;
          return h("div", { "data-allowed": String(p.allowed) }, p.allowed ? h("p.ok", C.t("预检通过", "precheck passed")) : null,
            p.blockers.map(function (b) { return h("p.error", b.code + " " + C.pick(b.message)); }),
            p.warnings.map(function (w) { return h("p.hint", w.code + " " + C.pick(w.message)); }));
        }));
      }
      Promise.all(asks).then(function (parts) {
        if (mine !== pending) return;
        parts.forEach(function (part) { blockers.appendChild(part); });
        var blocked = !!blockers.querySelector("[data-allowed=false]");
        button.disabled = !submit || !v.ok || blocked;
      }, function (error) { if (mine === pending) blockers.appendChild(h("p.error", C.pick(error.message))); });
    }
    kind.fields.forEach(function (f) { inputs[f[0]].addEventListener(inputs[f[0]].tagName === "SELECT" ? "change" : "input", check); });
    var form = h("form.card#submit-form", { "data-kind": kindName, onsubmit: function (event) {
      event.preventDefault();
      var v = values();
      if (!v.ok) return;
      C.q("mutation($kind: String!, $input: JSON!, $key: String) { submitApplication(kind: $kind, input: $input, idempotencyKey: $key) " +
        "{ id state } }", { kind: kindName, input: v.input, key: C.key() }).then(function (data) {
        window.location.hash = C.go("inbox", data.submitApplication.id);
      }, function (error) { C.notice(error.message); });
    } }, h("div.row", rows), blockers, h("div.row", button),
    submit ? null : h("p.hint#unavailable", C.t("本枢纽尚未提供提交（submitApplication），可先检查和预检。",
      "This hub does not offer submitting (submitApplication) yet; the checks and the precheck work.")));
    main.appendChild(form);
    inputs[kind.fields[0][0]].focus();
  };
})();
