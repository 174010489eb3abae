// Loaded from the site itself, so script-src 'self' allows it.
document.getElementById("external-script").innerHTML =
  "External script (<code>/app.js</code>): <strong>ran</strong>";
fetch("/data.json")
  .then((response) => response.json())
  .then((data) => {
    document.getElementById("json").innerHTML =
      "JSON (<code>/data.json</code>): <strong>" + data.message + "</strong>";
  })
  .catch(() => {});
