document.documentElement.dataset.external = "ran";
