// urbankb widget: <script src=".../static/embed.js" data-q="..." data-sdg="5" data-limit="3"></script>
// writes an iframe of /embed with the same parameters right after the script tag.
(function () {
  var script = document.currentScript;
  if (!script) return;
  var base = script.src.replace(/\/static\/embed\.js.*$/, "");
  var params = new URLSearchParams();
  ["q", "sdg", "gender", "lang", "country", "city", "region", "topic", "kind", "year_from", "year_to", "limit", "ui"].forEach(function (name) {
    var value = script.getAttribute("data-" + name);
    if (value) value.split(",").forEach(function (v) { params.append(name, v.trim()); });
  });
  var frame = document.createElement("iframe");
  frame.src = base + "/embed?" + params.toString();
  frame.title = script.getAttribute("data-title") || "Related urban practices";
  frame.style.border = "0"; frame.style.width = "100%";
  frame.height = script.getAttribute("data-height") || "420";
  script.parentNode.insertBefore(frame, script.nextSibling);
})();
