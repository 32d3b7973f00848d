// The GraphiQL console: a bearer token entered once is kept in this tab's sessionStorage (never in
// localStorage, never in the URL) and sent as `Authorization: Bearer …` with every request.
(function () {
  "use strict";
  var KEY = "staffing-hub.token";
  var url = window.location.origin + window.location.pathname;
  var input = document.getElementById("token");
  var state = document.getElementById("token-state");
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  var generation = 0;

  function render() {
    var token = sessionStorage.getItem(KEY) || "";
    state.textContent = token ? "已设置令牌 / token set" : "未设置令牌 / no token";
    generation += 1; // a new fetcher and a fresh GraphiQL: the schema is read again with the token
    root.render(React.createElement(GraphiQL, {
      key: generation,
      fetcher: GraphiQL.createFetcher({
        url: url,
        headers: token ? { Authorization: "Bearer " + token } : {},
      }),
      defaultEditorToolsVisibility: true,
      inputValueDeprecation: true,
    }));
  }

  document.getElementById("token-bar").addEventListener("submit", function (event) {
    event.preventDefault();
    var token = input.value.trim().replace(/^Bearer\s+/i, "");
    if (token) sessionStorage.setItem(KEY, token);
    input.value = "";
    render();
  });
  document.getElementById("forget").addEventListener("click", function () {
    sessionStorage.removeItem(KEY);
    render();
  });
  render();
})();
