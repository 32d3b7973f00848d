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
        return [C.link(C.go("inbox", a.id), a.id), a.kind, a.state, a.institution ? (a.institution.name || a.institution.code || a.institution) : "—", a.submittedAt || ""];
      })) : h("p.muted", C.t("没有待办", "Nothing to do"))));
    });
  };

  function detail(main, id) {
    if (!C.hasQuery("application")) { unavailable(main, C.t("申请查询（application）", "applications (application)")); return null; }
    return C.q("query($id: ID!) { application(id: $id) { " + application() + " } }", { id: id }).then(function (data) {
      var a = data.application;
      main.appendChild(h("h1", C.t("申请 ", "Application ") + a.id, " ", h("span.badge", a.state)));
      main.appendChild(h("section.card", h("h2", C.t("申请内容", "Input")), h("pre", JSON.stringify(a.input, null, 2))));
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

  // The new-application form: every field checked as one types; the hub's precheck shows blockers.
  C.pages.submit = function (main) {
    main.appendChild(h("h1", C.t("提交申请", "Submit an application")));
    var kinds = [];
    var submit = C.field(C.schema.mutation || "", "submitApplication");
    if (submit) {
      var kindArg = submit.args.filter(function (a) { return a.name === "kind"; })[0];
      var kindType = kindArg ? kindArg.type : null;
      while (kindType && kindType.ofType) kindType = kindType.ofType;
      kinds = kindType ? C.enumValues(kindType.name) : [];
    }
    var idNumber = h("input#f-idNumber", { name: "idNumber", autocomplete: "off", size: 22, "aria-describedby": "f-idNumber-check" });
    var idCheck = h("span#f-idNumber-check.hint", { "aria-live": "polite" });
    var name = h("input#f-name", { name: "name", size: 12 });
    var institution = h("input#f-institutionCode", { name: "institutionCode", size: 20 });
    var quotaType = h("select#f-quotaType", { name: "quotaType" }, h("option", { value: "" }, "—"),
      C.enumValues("QuotaType").map(function (t) { return h("option", { value: t }, C.quotaLabel(t)); }));
    var kind = h("select#f-kind", { name: "kind" }, (kinds.length ? kinds : ["ONBOARDING"]).map(function (k) { return h("option", { value: k }, k); }));
    var blockers = h("div#blockers", { "aria-live": "polite" });
    var button = h("button#f-submit", { type: "submit", disabled: true }, C.t("提交", "Submit"));
    function checkId() {
      var value = window.HubIds.normalize(idNumber.value);
      var problem = value ? window.HubIds.problem(value) : null;
      idNumber.setAttribute("aria-invalid", problem ? "true" : "false");
      idCheck.className = problem ? "error" : "ok";
      idCheck.textContent = !value ? "" : problem ? C.pick(problem) : C.t("校验通过", "valid");
      return value && !problem ? value : null;
    }
    var pending = 0;
    function precheck() {
      var id = checkId();
      var ready = id && institution.value.trim() && quotaType.value;
      button.disabled = true;
      blockers.textContent = "";
      if (!ready || !C.can("Query.precheck")) return;
      var mine = ++pending;
      C.q("query($code: String!, $id: String, $type: QuotaType) { precheck(action: HIRE, institutionCode: $code, idNumber: $id, " +
        "quotaType: $type) { allowed blockers { code message } warnings { code message } } }", { code: institution.value.trim(), id: id, type: quotaType.value })
        .then(function (data) {
          if (mine !== pending) return;
          var p = data.precheck;
          blockers.appendChild(h("div", { "data-allowed": String(p.allowed) }, p.allowed ? h("p.ok", C.t("预检通过", "precheck passed")) : null,
            p.blockers.map(function (b) { return h("p.error", b.code + " " + C.pick(b.message)); }),
            p.warnings.map(function (w) { return h("p.hint", w.code + " " + C.pick(w.message)); })));
          button.disabled = !p.allowed || !submit;
        }, function (error) { if (mine === pending) blockers.appendChild(h("p.error", C.pick(error.message))); });
    }
    [idNumber, name, institution].forEach(function (el) { el.addEventListener("input", precheck); });
    quotaType.addEventListener("change", precheck);
    var form = h("form.card#submit-form", { onsubmit: function (event) {
      event.preventDefault();
      var input = { idNumber: checkId(), name: name.value.trim(), institutionCode: institution.value.trim(), quotaType: quotaType.value };
      var types = { kind: C.argType(C.schema.mutation, "submitApplication", "kind"), input: C.argType(C.schema.mutation, "submitApplication", "input") };
      C.q("mutation($kind: " + types.kind + ", $input: " + types.input + ", $key: String) { submitApplication(kind: $kind, input: $input, " +
        "idempotencyKey: $key) { id state } }", { kind: kind.value, input: input, key: C.key() }).then(function (data) {
        window.location.hash = C.go("inbox", data.submitApplication.id);
      }, function (error) { C.notice(error.message); });
    } },
    h("div.row", h("label", { for: "f-kind" }, C.t("事项", "Kind"), kind),
      h("label", { for: "f-idNumber" }, C.t("身份证号", "ID number"), idNumber),
      h("label", { for: "f-name" }, C.t("姓名", "Name"), name),
      h("label", { for: "f-institutionCode" }, C.t("机构代码", "Institution code"), institution),
      h("label", { for: "f-quotaType" }, C.t("编制类型", "Quota type"), quotaType)),
    idCheck, blockers, h("div.row", button),
    submit ? null : h("p.hint#unavailable", C.t("本枢纽尚未提供提交（submitApplication），可先预检。",
      "This hub does not offer submitting (submitApplication) yet; the precheck works.")));
    main.appendChild(form);
    idNumber.focus();
  };
})();
