document.documentElement.dataset.opener = window.opener === null ? "null" : "present";
