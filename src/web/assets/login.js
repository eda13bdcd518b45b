// earshot login page: posts the credentials as JSON; the server sets an HttpOnly cookie.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("#login");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = document.querySelector("#login-error");
    error.textContent = "";
    const body = JSON.stringify({
      username: document.querySelector("#username").value,
      password: document.querySelector("#password").value,
    });
    try {
      const response = await fetch("/login", {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body,
        credentials: "same-origin",
      });
      if (response.ok) {
        window.location.assign("/");
      } else if (response.status === 429) {
        const minutes = Math.ceil(Number(response.headers.get("retry-after") || "60") / 60);
        error.textContent = `Too many failed attempts for this user: try again in ${minutes} minutes.`;
      } else {
        error.textContent = "Wrong username or password.";
      }
    } catch (e) {
      error.textContent = `Cannot reach earshot: ${e.message}`;
    }
  });
});
