// The console's core: sign-in, the GraphQL client, the role's own schema, language, routing, DOM helpers.
// Every page reads through `HubConsole.gql` (POST /graphql with the caller's token): the console is a
// client of the API under the caller's policies, never a second way to the data.
(function () {
  "use strict";
  var TOKEN = "staffing-hub.token"; // the same key as the GraphiQL page: one sign-in per tab serves both
  var LANG = "staffing-hub.lang";   // not a secret: kept across sessions
  var C = window.HubConsole = { pages: {}, data: {}, me: null, schema: null };

  // ---- language: Chinese first, English on request ------------------------------------------------
  C.lang = localStorage.getItem(LANG) === "en" ? "en" : "zh";
  C.t = function (zh, en) { return C.lang === "en" ? en : zh; };
  // A bilingual message from the hub ("中文 / English") in the current language.
  C.pick = function (text) {
    var i = String(text).indexOf(" / ");
    if (i < 0) return String(text);
    return C.lang === "en" ? String(text).slice(i + 3) : String(text).slice(0, i);
  };
  C.number = function (n) { return n === null || n === undefined ? "—" : Number(n).toLocaleString(C.lang === "en" ? "en-US" : "zh-CN"); };

  // ---- DOM ---------------------------------------------------------------------------------------
  // h("tag.class#id", {attr: value, onclick: fn}, child, [children], "text") -> element
  C.h = function (spec) {
    var m = /^([a-z0-9]+)?((?:[.#][\w-]+)*)$/i.exec(spec) || [spec, spec, ""];
    var el = document.createElement(m[1] || "div");
    (m[2].match(/[.#][\w-]+/g) || []).forEach(function (part) {
      if (part[0] === ".") el.classList.add(part.slice(1)); else el.id = part.slice(1);
    });
    var start = 1, attrs = arguments[1];
    if (attrs && typeof attrs === "object" && !(attrs instanceof Node) && !Array.isArray(attrs)) {
      start = 2;
      Object.keys(attrs).forEach(function (key) {
        var value = attrs[key];
        if (value === undefined || value === null || value === false) return;
        if (key.slice(0, 2) === "on") el.addEventListener(key.slice(2), value);
        else if (key === "text") el.textContent = value;
        else el.setAttribute(key, value === true ? "" : value);
      });
    }
    (function add(items) {
      items.forEach(function (child) {
        if (child === null || child === undefined || child === false) return;
        if (Array.isArray(child)) add(child);
        else el.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
      });
    })(Array.prototype.slice.call(arguments, start));
    return el;
  };
  var h = C.h;
  C.link = function (href, text) { return h("a", { href: href }, text); };
  C.table = function (headers, rows) {
    return h("table", h("thead", h("tr", headers.map(function (x) {
      var numeric = x.charAt(0) === "#";
      return h("th" + (numeric ? ".num" : ""), { scope: "col" }, numeric ? x.slice(1) : x);
    }))), h("tbody", rows.map(function (cells) {
      return h("tr", cells.map(function (cell, i) {
        return h("td" + (headers[i].charAt(0) === "#" ? ".num" : ""), typeof cell === "number" ? C.number(cell) : cell);
      }));
    })));
  };
  C.notice = function (text, kind) {
    var el = document.getElementById("notice");
    el.hidden = !text;
    el.className = kind || "";
    el.textContent = text || "";
  };

  // ---- the API -----------------------------------------------------------------------------------
  var credentials = C.credentials = function () {
    var token = sessionStorage.getItem(TOKEN) || "";
    if (!token) return {};
    return /^shk_/.test(token) ? { "X-API-Key": token } : { Authorization: "Bearer " + token };
  };
  C.signedIn = function () { return !!sessionStorage.getItem(TOKEN); };

  function ApiError(errors) {
    this.errors = errors;
    this.message = errors.map(function (e) { return C.pick(e.message); }).join("\n");
  }
  ApiError.prototype = Object.create(Error.prototype);
  C.ApiError = ApiError;

  // One GraphQL operation; resolves to {data, errors}. No data at all (refused before execution) rejects.
  C.gql = function (query, variables) {
    var headers = Object.assign({ "Content-Type": "application/json", Accept: "application/json" }, credentials());
    return fetch("/graphql", { method: "POST", headers: headers, body: JSON.stringify({ query: query, variables: variables || {} }) })
      .then(function (response) {
        if (response.status === 401) { C.signOut(); throw new ApiError([{ message: "请重新登录 / please sign in again" }]); }
        return response.json();
      })
      .then(function (body) {
        if (!body.data) throw new ApiError(body.errors || [{ message: "无应答 / no answer" }]);
        return { data: body.data, errors: body.errors || [] };
      });
  };
  // The data of an operation; any error rejects (pages that take partial answers use C.gql).
  C.q = function (query, variables) {
    return C.gql(query, variables).then(function (answer) {
      if (answer.errors.length) throw new ApiError(answer.errors);
      return answer.data;
    });
  };
  C.key = function () { return (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random()).slice(0, 64); };

  // ---- the role's own schema (introspection answers only what the caller may read) --------------
  var INTROSPECT = "{ __schema { queryType { name } mutationType { name } types { name kind enumValues { name description } " +
    "fields { name args { name type { kind name ofType { kind name ofType { kind name } } } } " +
    "type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }";
  function named(type) { while (type && type.ofType) type = type.ofType; return type; }
  function loadSchema() {
    return C.q(INTROSPECT).then(function (data) {
      var types = {};
      data.__schema.types.forEach(function (t) { types[t.name] = t; });
      C.schema = { types: types, query: data.__schema.queryType.name, mutation: (data.__schema.mutationType || {}).name };
    });
  }
  C.field = function (type, field) {
    var t = C.schema && C.schema.types[type];
    return t && t.fields ? t.fields.filter(function (f) { return f.name === field; })[0] || null : null;
  };
  C.can = function (path) { var p = path.split("."); return !!C.field(p[0], p[1]); };
  C.hasQuery = function (name) { return C.can(C.schema.query + "." + name); };
  C.hasMutation = function (name) { return !!C.schema.mutation && C.can(C.schema.mutation + "." + name); };
  C.typeRef = function (t) {
    if (t.kind === "NON_NULL") return C.typeRef(t.ofType) + "!";
    return t.kind === "LIST" ? "[" + C.typeRef(t.ofType) + "]" : t.name;
  };
  C.argType = function (type, field, arg) {
    var f = C.field(type, field);
    var a = f ? f.args.filter(function (x) { return x.name === arg; })[0] : null;
    return a ? C.typeRef(a.type) : null;
  };
  C.fieldType = function (type, field) { var f = C.field(type, field); return f ? named(f.type) : null; };
  // A department id as its title in the page's language (the Department enum's description), else the id.
  C.departmentLabel = function (id) {
    var t = C.schema.types.Department, v = t && t.enumValues ? t.enumValues.filter(function (x) { return x.name === String(id).toUpperCase(); })[0] : null;
    return v && v.description ? C.pick(v.description) : id || "—";
  };
  C.enumValues = function (name) { var t = C.schema.types[name]; return t && t.enumValues ? t.enumValues.map(function (v) { return v.name; }) : []; };
  // A selection of `type` keeping only what the role may read: items are field names, or
  // [field, args, [items]] for an object field (dropped when nothing inside it is readable).
  C.sel = function (type, items) {
    var parts = [];
    items.forEach(function (item) {
      var name = Array.isArray(item) ? item[0] : item;
      var f = C.field(type, name);
      if (!f) return;
      var target = named(f.type);
      if (Array.isArray(item)) {
        var inner = C.sel(target.name, item[2]);
        if (inner) parts.push(name + (item[1] || "") + " { " + inner + " }");
      } else if (target.kind === "OBJECT") {
        var scalars = C.scalars(target.name);
        if (scalars) parts.push(name + " { " + scalars + " }");
      } else parts.push(name);
    });
    return parts.join(" ");
  };
  // Every readable scalar field of a type (for types whose shape the console does not fix).
  C.scalars = function (type) {
    var t = C.schema.types[type];
    if (!t || !t.fields) return "";
    return t.fields.filter(function (f) { var k = named(f.type).kind; return k === "SCALAR" || k === "ENUM"; })
      .map(function (f) { return f.name; }).join(" ");
  };

  // ---- sign-in -----------------------------------------------------------------------------------
  C.signIn = function (token) {
    sessionStorage.setItem(TOKEN, token.trim().replace(/^Bearer\s+/i, ""));
    C.me = null;
    C.schema = null;
    return start();
  };
  C.signOut = function () {
    sessionStorage.removeItem(TOKEN);
    C.me = null;
    C.schema = null;
    showSignIn();
  };
  function whoami() {
    return fetch("/console/whoami", { headers: credentials() }).then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) throw new ApiError(body.errors);
        return body;
      });
    });
  }
  C.describe = function (who) {
    var department = who.department ? (C.lang === "en" ? who.departmentEn : who.departmentZh) || who.department : C.t("全部门", "all departments");
    return { department: department, roles: who.roles.join(", "), region: who.regionName + " (" + who.region + ")" };
  };
  function showWho() {
    var el = document.getElementById("who");
    el.textContent = "";
    if (!C.me) return;
    var d = C.describe(C.me);
    el.appendChild(h("div", h("strong.subject", C.me.subject), " · ", h("span.department", d.department)));
    el.appendChild(h("div.roles", C.t("角色 ", "roles "), h("span.role-list", d.roles), " · ", h("span.region", d.region)));
  }
  function showSignIn() {
    renderChrome();
    var main = document.getElementById("main");
    main.textContent = "";
    var input = h("textarea#token", { rows: 3, cols: 70, autocomplete: "off", spellcheck: "false",
      placeholder: C.t("粘贴令牌或 API 密钥，仅保存在本标签页", "paste a token or API key, kept for this tab only") });
    var form = h("form#signin.card", { onsubmit: function (event) {
      event.preventDefault();
      if (input.value.trim()) C.signIn(input.value);
    } },
    h("h1", C.t("登录", "Sign in")),
    h("label", { for: "token" }, C.t("令牌或 API 密钥", "Token or API key")), input,
    h("div.row", h("button", { type: "submit" }, C.t("登录", "Sign in"))),
    h("p.hint", C.t("令牌只保存在本标签页（sessionStorage），关闭即忘。", "The token is kept in this tab only (sessionStorage) and forgotten when it closes.")));
    main.appendChild(form);
    fetch("/console/demo-users").then(function (response) { return response.ok ? response.json() : []; }).then(function (users) {
      if (!users.length) return;
      main.appendChild(h("section#demo-users.card", h("h2", C.t("演示用户", "Demo users")),
        h("p.hint", C.t("仅演示数据提供：点击以该身份登录。", "Demo data only: click to sign in as that user.")),
        h("div.users", users.map(function (user) {
          var d = C.describe(user);
          return h("button", { type: "button", "data-subject": user.subject, onclick: function () { C.signIn(user.token); } },
            h("strong", d.department), " · ", d.roles, h("br"), h("span.muted", d.region));
        }))));
    }).catch(function () {});
    input.focus();
  }

  // ---- chrome and routing ------------------------------------------------------------------------
  var NAV = [
    ["overview", "概览", "Overview"],
    ["inbox", "一网通办", "Inbox"],
    ["alerts", "预警", "Alerts"],
    ["institutions", "机构", "Institutions"],
    ["people", "人员", "People"],
    ["reports", "报表", "Reports"],
  ];
  function renderChrome() {
    var nav = document.getElementById("nav");
    nav.textContent = "";
    if (C.me) {
      var current = route().page;
      NAV.forEach(function (item) {
        nav.appendChild(h("a" + (current === item[0] ? ".current" : ""), { href: "#/" + item[0] }, C.t(item[1], item[2])));
      });
      nav.appendChild(h("a", { href: "/graphql" }, "GraphiQL"));
    }
    document.getElementById("lang").textContent = C.lang === "en" ? "中文" : "English";
    var out = document.getElementById("signout");
    out.hidden = !C.me;
    out.textContent = C.t("退出", "Sign out");
    document.documentElement.lang = C.lang === "en" ? "en" : "zh-CN";
    showWho();
  }
  function route() {
    var hash = window.location.hash.replace(/^#\/?/, "");
    var q = hash.indexOf("?");
    var path = (q < 0 ? hash : hash.slice(0, q)).split("/").map(decodeURIComponent);
    var params = {};
    new URLSearchParams(q < 0 ? "" : hash.slice(q + 1)).forEach(function (v, k) { params[k] = v; });
    return { page: path[0] || "overview", arg: path[1], params: params };
  }
  C.go = function (page, arg, params) {
    var hash = "#/" + page + (arg ? "/" + encodeURIComponent(arg) : "");
    var query = new URLSearchParams();
    Object.keys(params || {}).forEach(function (k) { if (params[k]) query.set(k, params[k]); });
    return hash + (query.toString() ? "?" + query.toString() : "");
  };
  var renders = 0;
  function render() {
    if (!C.me) return;
    renderChrome();
    C.notice("");
    var r = route();
    var page = C.pages[r.page] || C.pages.overview;
    var main = document.getElementById("main");
    var mine = ++renders;
    main.textContent = "";
    main.setAttribute("data-page", r.page);
    main.removeAttribute("data-ready");
    Promise.resolve(page(main, r.arg, r.params)).catch(function (error) {
      if (mine !== renders) return;
      main.appendChild(h("p.error", C.pick(error.message || String(error))));
    }).then(function () {
      if (mine !== renders) return;
      main.setAttribute("data-ready-ms", String(Math.round(performance.now()))); // since the page began to load
      main.setAttribute("data-ready", r.page);
    });
  }
  C.render = render;
  C.current = function () { return renders; };

  function start() {
    if (!C.signedIn()) { showSignIn(); return Promise.resolve(); }
    return whoami().then(function (me) {
      C.me = me;
      return loadSchema();
    }).then(render).catch(function (error) {
      C.me = null;
      showSignIn();
      C.notice(C.pick(error.message || String(error)));
    });
  }

  document.getElementById("lang").addEventListener("click", function () {
    C.lang = C.lang === "en" ? "zh" : "en";
    localStorage.setItem(LANG, C.lang);
    if (C.me) render(); else showSignIn();
  });
  document.getElementById("signout").addEventListener("click", function () { C.signOut(); });
  window.addEventListener("hashchange", render);
  window.addEventListener("DOMContentLoaded", start);
})();
