// The one-window inbox (一网通办): the applications waiting for the caller's department (myTasks) and
// those returned to the caller's office; one application's input, prechecks, history and each step's
// decision, with approve / return / reject, resubmit after a return and withdraw; and the form that
// submits a new application. The kinds, their fields and steps come from the hub (applicationKinds,
// generated from the kind definitions), so the form follows the definitions without a copy here.
(function () {
  "use strict";
  var C = window.HubConsole, h = C.h;
  var DECISIONS = [["APPROVE", "同意", "Approve"], ["RETURN", "退回修改", "Return"], ["REJECT", "不予通过", "Reject"]];
  var STATES = { SUBMITTED: ["已提交", "submitted"], IN_REVIEW: ["审核中", "in review"], RETURNED: ["已退回", "returned"],
    REJECTED: ["不予通过", "rejected"], WITHDRAWN: ["已撤回", "withdrawn"], COMPLETED: ["已办结", "completed"] };
  var EVENTS = { SUBMIT: ["提交", "submitted"], RESUBMIT: ["重新提交", "resubmitted"], WITHDRAW: ["撤回", "withdrawn"],
    APPROVE: ["同意", "approved"], RETURN: ["退回", "returned"], REJECT: ["不予通过", "rejected"] };
  var LIVE = ["SUBMITTED", "IN_REVIEW", "RETURNED"];

  function label(table, code) { var l = table[code]; return l ? C.t(l[0], l[1]) : code || "—"; }
  C.stateLabel = function (state) { return label(STATES, state); };

  // Every kind the hub runs, with whether the caller may submit it; asked once per sign-in.
  function kinds() {
    if (!C.hasQuery("applicationKinds")) return Promise.resolve(null);
    if (C.schema.kinds) return Promise.resolve(C.schema.kinds);
    return C.q("{ applicationKinds(submittable: false) { kind title submittable precheckAction " +
      "fields { key type title required choices choiceTitles minimum maximum } steps { step title stage } } }").then(function (data) {
      var out = {};
      data.applicationKinds.forEach(function (k) { out[k.kind] = k; });
      C.schema.kinds = out;
      return out;
    });
  }
  C.applicationKinds = kinds;
  function kindTitle(all, name) { return all && all[name] ? C.pick(all[name].title) : name; }
  function stepTitle(all, kindName, step) {
    var k = all && all[kindName], s = k ? k.steps.filter(function (x) { return x.step === step; })[0] : null;
    return s ? C.pick(s.title) : step || "—";
  }

  function selection() {
    var type = C.fieldType(C.schema.query, "application");
    return C.sel(type ? type.name : "Application", ["id", "kind", "state", "currentSteps", "submittedBy", "submittedAt", "completedAt",
      "input", "institutionCode", ["precheck", "", ["allowed", ["blockers", "", ["code", "message"]], ["warnings", "", ["code", "message"]]]],
      ["institution", "", ["code", "name"]], ["person", "", ["idNumber", "name"]],
      ["history", "", ["step", "decision", "fromState", "toState", "actor", "department", "at", "comment"]]]);
  }
  function unavailable(main, what) {
    main.appendChild(h("p.card.muted#unavailable", C.t("本枢纽尚未提供" + what + "。", "This hub does not offer " + what + " yet.")));
  }
  function when(at) { return at ? String(at).replace("T", " ").slice(0, 19) : ""; }
  function nodes(connection) { return connection.edges.map(function (e) { return e.node; }); }
  function listing(all, apps, id) {
    if (!apps.length) return h("p.muted", C.t("没有", "None"));
    var t = C.table([C.t("编号", "Id"), C.t("事项", "Kind"), C.t("状态", "State"), C.t("待办环节", "Waiting at"),
      C.t("机构", "Institution"), C.t("提交时间", "Submitted")], apps.map(function (a) {
      return [C.link(C.go("inbox", a.id), a.id), kindTitle(all, a.kind), C.stateLabel(a.state),
        a.currentSteps.map(function (s) { return stepTitle(all, a.kind, s); }).join("、"),
        a.institution ? a.institution.name || a.institution.code : a.institutionCode, when(a.submittedAt)];
    }));
    t.id = id;
    return t;
  }

  C.pages.inbox = function (main, id) {
    if (id) return detail(main, id);
    main.appendChild(h("h1", C.t("一网通办", "Inbox")));
    if (!C.hasQuery("myTasks")) { unavailable(main, C.t("待办（myTasks）", "the task list (myTasks)")); return null; }
    var inner = "totalCount edges { node { id kind state currentSteps institutionCode submittedAt " +
      C.sel("Application", [["institution", "", ["code", "name"]]]) + " } }";
    var returnedToo = C.hasQuery("applications") && C.hasMutation("resubmitApplication");
    return Promise.all([kinds(), C.q("{ myTasks(first: 100) { " + inner + " } " +
      (returnedToo ? "returned: applications(state: RETURNED, first: 100) { " + inner + " } " : "") + "}")]).then(function (answers) {
      var all = answers[0], data = answers[1];
      var returned = (returnedToo ? nodes(data.returned) : []).filter(function (a) { return all && all[a.kind] && all[a.kind].submittable; });
      if (all && Object.keys(all).some(function (k) { return all[k].submittable; })) {
        main.appendChild(h("p", C.link(C.go("submit"), C.t("提交新申请", "Submit a new application"))));
      }
      main.appendChild(h("section.card", { "data-total": String(data.myTasks.totalCount) },
        h("h2", C.t("待我审批", "Waiting for my decision"), " (", String(data.myTasks.totalCount), ")"),
        listing(all, nodes(data.myTasks), "tasks")));
      main.appendChild(h("section.card", h("h2", C.t("退回待修改（本部门可重新提交）", "Returned for changes (yours to resubmit)")),
        listing(all, returned, "returned")));
    });
  };

  function detail(main, id) {
    if (!C.hasQuery("application")) { unavailable(main, C.t("申请查询（application）", "applications (application)")); return null; }
    var tasks = C.hasQuery("myTasks") ? C.q("{ myTasks(first: 100) { edges { node { id } } } }") : Promise.resolve(null);
    return Promise.all([kinds(), C.q("query($id: ID!) { application(id: $id) { " + selection() + " } }", { id: id }), tasks]).then(function (answers) {
      var all = answers[0], a = answers[1].application, kind = all && all[a.kind];
      var mine = !!answers[2] && answers[2].myTasks.edges.some(function (e) { return e.node.id === a.id; });
      main.setAttribute("data-state", a.state);
      main.appendChild(h("h1", kindTitle(all, a.kind), " ", h("span.muted", a.id), " ",
        h("span.badge#state", { "data-state": a.state }, C.stateLabel(a.state))));
      main.appendChild(h("p.muted", C.t("机构 ", "Institution ") + (a.institution ? a.institution.name + " (" + a.institution.code + ")" : a.institutionCode) +
        " · " + C.t("提交人 ", "submitted by ") + (a.submittedBy || "—") + " · " + when(a.submittedAt) +
        (a.completedAt ? " · " + C.t("办结 ", "completed ") + when(a.completedAt) : "")));
      var input = a.input || {};
      var fields = kind ? kind.fields.map(function (f) { return [f.key, C.pick(f.title), f]; }) : Object.keys(input).map(function (k) { return [k, k]; });
      main.appendChild(h("section.card#input", h("h2", C.t("申请内容", "Input")), C.table([C.t("字段", "Field"), C.t("内容", "Value")],
        fields.filter(function (f) { return input[f[0]] !== undefined; }).map(function (f) {
          var v = input[f[0]];
          return [f[1], f[0] === "quotaType" ? C.quotaLabel(v) : f[2] ? choiceTitle(f[2], v) : String(v)];
        }))));
      if (a.precheck) {
        var items = a.precheck.blockers.map(function (b) { return h("li.error", { "data-code": b.code }, b.code + " " + C.pick(b.message)); })
          .concat(a.precheck.warnings.map(function (w) { return h("li.hint", { "data-code": w.code }, w.code + " " + C.pick(w.message)); }));
        main.appendChild(h("section.card#precheck", h("h2", C.t("事前校验", "Prechecks")),
          a.precheck.allowed ? h("p.ok", C.t("校验通过", "passed")) : null, items.length ? h("ul", items) : null));
      }
      main.appendChild(steps(all, a, kind));
      main.appendChild(h("section.card#history", h("h2", C.t("办理经过", "History")), C.table([C.t("环节", "Step"), C.t("部门", "Department"),
        C.t("办理", "Action"), C.t("经办人", "Actor"), C.t("时间", "At"), C.t("意见", "Comment")], (a.history || []).map(function (e) {
        return [e.step ? stepTitle(all, a.kind, e.step) : "—", C.departmentLabel(e.department), label(EVENTS, e.decision), e.actor, when(e.at), e.comment || ""];
      }))));
      if (mine && C.hasMutation("decideApplication")) main.appendChild(decideForm(a));
      if (a.state === "RETURNED" && kind && kind.submittable && C.hasMutation("resubmitApplication")) {
        main.appendChild(h("section.card#resubmit", h("h2", C.t("修改后重新提交", "Change and resubmit")),
          form(kind, input, C.t("重新提交", "Resubmit"), function (values) {
            return C.q("mutation($id: ID!, $input: JSON, $key: String) { resubmitApplication(id: $id, input: $input, idempotencyKey: $key) " +
              "{ id state } }", { id: a.id, input: values, key: C.key() }).then(function () { C.render(); });
          })));
      }
      if (LIVE.indexOf(a.state) >= 0 && kind && kind.submittable && C.hasMutation("withdrawApplication")) main.appendChild(withdrawForm(a));
    });
  }

  // Each step of the kind, stage by stage, with its latest decision since the last (re)submission:
  // the other departments' decisions beside one's own.
  function steps(all, a, kind) {
    var latest = {};
    (a.history || []).forEach(function (e) {
      if (e.decision === "SUBMIT" || e.decision === "RESUBMIT") latest = {};
      else if (e.step) latest[e.step] = e;
    });
    var list = kind ? kind.steps : a.currentSteps.map(function (s) { return { step: s, title: s, stage: "" }; });
    var t = C.table([C.t("#阶段", "#Stage"), C.t("环节", "Step"), C.t("部门", "Department"), C.t("意见", "Decision"), C.t("经办人", "Actor"),
      C.t("说明", "Comment")], list.map(function (s) {
      var e = latest[s.step], waiting = a.currentSteps.indexOf(s.step) >= 0;
      return [s.stage, C.pick(s.title), e ? C.departmentLabel(e.department) : "—",
        e ? label(EVENTS, e.decision) : waiting ? C.t("待办", "waiting") : "—", e ? e.actor : "", e ? e.comment || "" : ""];
    }));
    Array.prototype.forEach.call(t.tBodies[0].rows, function (row, i) { row.setAttribute("data-step", list[i].step); });
    return h("section.card#steps", h("h2", C.t("各部门意见", "Each department's decision")), t);
  }

  function decideForm(a) {
    var comment = h("textarea#comment", { rows: 2, cols: 60 });
    var buttons = DECISIONS.map(function (d) {
      return h("button" + (d[0] === "APPROVE" ? "" : ".secondary"), { type: "button", "data-decision": d[0], onclick: function () {
        buttons.forEach(function (b) { b.disabled = true; });
        C.q("mutation($id: ID!, $d: ApplicationDecision!, $comment: String, $key: String) { decideApplication(id: $id, decision: $d, " +
          "comment: $comment, idempotencyKey: $key) { id state } }", { id: a.id, d: d[0], comment: comment.value.trim() || null, key: C.key() })
          .then(function () { C.render(); }, function (error) { buttons.forEach(function (b) { b.disabled = false; }); C.notice(error.message); });
      } }, C.t(d[1], d[2]));
    });
    return h("form.card#decide", { onsubmit: function (event) { event.preventDefault(); } },
      h("h2", C.t("审批", "Decide")), h("label", { for: "comment" }, C.t("意见", "Comment"), comment), h("div.row", buttons));
  }

  function withdrawForm(a) {
    var note = h("input#withdraw-comment", { size: 40, autocomplete: "off" });
    return h("form.card#withdraw", { onsubmit: function (event) {
      event.preventDefault();
      C.q("mutation($id: ID!, $comment: String, $key: String) { withdrawApplication(id: $id, comment: $comment, idempotencyKey: $key) " +
        "{ id state } }", { id: a.id, comment: note.value.trim() || null, key: C.key() }).then(function () { C.render(); },
        function (error) { C.notice(error.message); });
    } }, h("h2", C.t("撤回申请", "Withdraw")), h("div.row", h("label", { for: "withdraw-comment" }, C.t("说明", "Note"), note),
      h("button.secondary#withdraw-button", { type: "submit" }, C.t("撤回", "Withdraw"))));
  }

  // What is wrong with one field's value (a message), "" when it is fine; the field as the hub declares it.
  function fieldProblem(f, value) {
    if (!value) return f.required ? C.t("必填", "required") : "";
    if (f.type === "ID_NUMBER") { var p = window.HubIds.problem(window.HubIds.normalize(value)); return p ? C.pick(p) : ""; }
    if (f.type === "MONTH") return /^\d{4}-(0[1-9]|1[0-2])$/.test(value) ? "" : C.t("格式为 YYYY-MM", "as YYYY-MM");
    if (f.type === "DATE") return /^\d{4}-\d{2}-\d{2}$/.test(value) && !isNaN(Date.parse(value)) ? "" : C.t("格式为 YYYY-MM-DD", "as YYYY-MM-DD");
    if (f.type === "INT") {
      var n = Number(value), low = f.minimum === null ? -Infinity : f.minimum, high = f.maximum === null ? Infinity : f.maximum;
      return /^-?\d+$/.test(value) && n >= low && n <= high ? "" : C.t("须为整数 ", "an integer ") + (f.minimum === null ? "" : f.minimum) + "–" +
        (f.maximum === null ? "" : f.maximum);
    }
    if (f.type === "TEXT" || f.type === "INSTITUTION") return value.length > 200 ? C.t("不超过 200 字", "at most 200 characters") : "";
    return "";
  }
  // A choice as "CODE title" in the page's language (the hub names the choices its code lists know).
  function choiceTitle(f, code) {
    var i = (f.choices || []).indexOf(code), title = i >= 0 && f.choiceTitles ? f.choiceTitles[i] : code;
    return title === code ? String(code) : code + " " + C.pick(title);
  }
  function control(f, initial) {
    var id = "f-" + f.key, value = initial === undefined || initial === null ? "" : String(initial);
    if (f.type === "QUOTA_TYPE" || f.type === "CHOICE") {
      var values = f.type === "QUOTA_TYPE" ? C.enumValues("QuotaType") : f.choices;
      return h("select", { id: id, name: f.key, required: f.required }, h("option", { value: "" }, "—"), values.map(function (v) {
        return h("option", { value: v, selected: v === value }, f.type === "QUOTA_TYPE" ? C.quotaLabel(v) : choiceTitle(f, v));
      }));
    }
    var el = h("input", { id: id, name: f.key, autocomplete: "off", size: f.type === "ID_NUMBER" || f.type === "INSTITUTION" ? 20 : 12,
      type: f.type === "DATE" ? "date" : "text", inputmode: f.type === "INT" ? "numeric" : null, required: f.required,
      placeholder: f.type === "MONTH" ? "YYYY-MM" : null, "aria-describedby": id + "-check" });
    el.value = value;
    return el;
  }

  // A form of a kind's fields: every field checked as one types; the hub's precheck and the
  // institution's vacant places shown before sending; the button disabled while anything blocks.
  function form(kind, initial, buttonText, send) {
    var inputs = {}, checks = {};
    var rows = kind.fields.map(function (f) {
      inputs[f.key] = control(f, initial[f.key]);
      checks[f.key] = h("span.hint", { id: "f-" + f.key + "-check", "aria-live": "polite" });
      return h("label", { for: "f-" + f.key }, C.pick(f.title) + (f.required ? "" : C.t("（选填）", " (optional)")), inputs[f.key], checks[f.key]);
    });
    var blockers = h("div#blockers", { "aria-live": "polite" });
    var button = h("button#f-submit", { type: "submit", disabled: true }, buttonText);
    var has = function (name) { return kind.fields.some(function (f) { return f.key === name; }); };
    function values() {
      var out = {}, ok = true;
      kind.fields.forEach(function (f) {
        var el = inputs[f.key], raw = el.value.trim(), problem = fieldProblem(f, raw);
        if (raw || el === document.activeElement) {
          el.setAttribute("aria-invalid", problem ? "true" : "false");
          checks[f.key].className = problem ? "error" : "hint";
          checks[f.key].textContent = problem;
        }
        if (problem) ok = false;
        if (raw) out[f.key] = f.type === "ID_NUMBER" ? window.HubIds.normalize(raw) || raw : f.type === "INT" ? Number(raw) : raw;
      });
      return { input: out, ok: ok };
    }
    var pending = 0;
    function check() {
      var v = values(), input = v.input, mine = ++pending;
      button.disabled = true;
      blockers.textContent = "";
      var asks = [];
      if (input.institutionCode && input.quotaType && C.can("Institution.quotas")) {
        asks.push(C.q("query($code: String!) { institution(code: $code) { quotas { quotaType vacant } } }", { code: input.institutionCode })
          .then(function (data) {
            var q = ((data.institution || {}).quotas || []).filter(function (x) { return x.quotaType === input.quotaType; })[0];
            return h("p.hint#vacant", C.t("该类型空编 ", "vacant places of this type: ") + (q ? q.vacant : 0));
          }));
      }
      var ready = input.institutionCode && (!has("idNumber") || input.idNumber) && (!has("quotaType") || input.quotaType);
      if (kind.precheckAction && ready && C.can("Query.precheck")) {
        asks.push(C.q("query($code: String!, $id: String, $type: QuotaType) { precheck(action: " + kind.precheckAction +
          ", institutionCode: $code, idNumber: $id, quotaType: $type) { allowed blockers { code message } warnings { code message } } }",
        { code: input.institutionCode, id: input.idNumber || null, type: input.quotaType || null }).then(function (data) {
          var p = data.precheck;
          return h("div", { "data-allowed": String(p.allowed) }, p.allowed ? h("p.ok", C.t("预检通过", "precheck passed")) : null,
            p.blockers.map(function (b) { return h("p.error", { "data-code": b.code }, b.code + " " + C.pick(b.message)); }),
            p.warnings.map(function (w) { return h("p.hint", { "data-code": w.code }, w.code + " " + C.pick(w.message)); }));
        }));
      }
      Promise.all(asks).then(function (parts) {
        if (mine !== pending) return;
        parts.forEach(function (part) { blockers.appendChild(part); });
        var blocked = !!blockers.querySelector("[data-allowed=false]");
        button.disabled = !v.ok || blocked || (!!kind.precheckAction && !ready);
        blockers.setAttribute("data-checked", String(mine));
      }, function (error) { if (mine === pending) blockers.appendChild(h("p.error", C.pick(error.message))); });
    }
    kind.fields.forEach(function (f) { inputs[f.key].addEventListener(inputs[f.key].tagName === "SELECT" ? "change" : "input", check); });
    var el = h("form#submit-form", { "data-kind": kind.kind, onsubmit: function (event) {
      event.preventDefault();
      var v = values();
      if (!v.ok || button.disabled) return;
      button.disabled = true;
      send(v.input).catch(function (error) { button.disabled = false; C.notice(error.message); });
    } }, h("div.row", rows), blockers, h("div.row", button));
    if (Object.keys(initial).length) check();
    return el;
  }
  C.applicationForm = form;

  C.pages.submit = function (main, arg) {
    main.appendChild(h("h1", C.t("提交申请", "Submit an application")));
    if (!C.hasMutation("submitApplication")) { unavailable(main, C.t("提交（submitApplication）", "submitting (submitApplication)")); return null; }
    return kinds().then(function (all) {
      var mine = Object.keys(all || {}).filter(function (k) { return all[k].submittable; });
      if (!mine.length) { main.appendChild(h("p.card.muted#unavailable", C.t("本部门不提交申请。", "Your department submits no application."))); return; }
      var kindName = mine.indexOf(arg) >= 0 ? arg : mine[0], kind = all[kindName];
      main.appendChild(h("nav.row", { "aria-label": C.t("事项", "kinds") }, mine.map(function (k) {
        return h("a" + (k === kindName ? ".current" : ""), { href: C.go("submit", k), "data-kind": k }, C.pick(all[k].title));
      })));
      main.appendChild(h("p.hint", C.t("审批环节：", "Steps: ") + kind.steps.map(function (s) { return s.stage + ". " + C.pick(s.title); }).join("；")));
      var card = h("section.card", form(kind, {}, C.t("提交", "Submit"), function (input) {
        return C.q("mutation($kind: String!, $input: JSON!, $key: String) { submitApplication(kind: $kind, input: $input, idempotencyKey: $key) " +
          "{ id state } }", { kind: kindName, input: input, key: C.key() }).then(function (data) {
          window.location.hash = C.go("inbox", data.submitApplication.id);
        });
      }));
      main.appendChild(card);
      card.querySelector("input, select").focus();
    });
  };
})();
