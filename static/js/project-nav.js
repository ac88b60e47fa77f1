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
    })
    .catch(() => {});
}

if (nav) {
  nav.querySelectorAll(".nav-count[data-count-url]").forEach(fillCount);
  // On a narrow screen the list scrolls inside itself: bring the current page's link into view there without
  // scrolling the page.
  const current = nav.querySelector('[aria-current="page"]');
  const list = nav.querySelector("ul");
  if (current && list && list.scrollWidth > list.clientWidth) {
    list.scrollLeft = current.offsetLeft - (list.clientWidth - current.offsetWidth) / 2;
  }
}
