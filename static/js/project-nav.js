// The project navigation's counts are the API's own `count` of the list each one names (data-count-url), so
// the nav never disagrees with the API; a count that cannot be read stays hidden rather than guessed.
const nav = document.getElementById("project-nav");

function fillCount(element) {
  const url = new URL(element.dataset.countUrl, window.location.origin);
  url.searchParams.set("page_size", "1");
  fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then((response) => (response.ok ? response.json() : null))
    .then((data) => {
      if (!data || typeof data.count !== "number") return;
      const figure = document.createElement("span");
      figure.className = "nav-figure";
      figure.textContent = data.count.toLocaleString(document.documentElement.lang || undefined);
      figure.dataset.count = String(data.count);
      const words = document.createElement("span");
      words.className = "visually-hidden";
      words.textContent = ` ${element.dataset.countWords}`;
      element.replaceChildren(figure, words);
      element.hidden = false;
      revealCurrent();
    })
    .catch(() => {});
}

// On a narrow screen the list scrolls inside itself: keep the current page's link in view there (again once a
// count widens the links before it), without scrolling the page.
function revealCurrent() {
  const list = nav.querySelector("ul");
  const current = nav.querySelector('[aria-current="page"]');
  if (!list || !current || list.scrollWidth <= list.clientWidth) return;
  const listBox = list.getBoundingClientRect();
  const linkBox = current.getBoundingClientRect();
  list.scrollLeft += linkBox.left + linkBox.width / 2 - (listBox.left + listBox.width / 2);
}

if (nav) {
  nav.querySelectorAll(".nav-count[data-count-url]").forEach(fillCount);
  revealCurrent();
}
