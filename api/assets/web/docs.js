// The API docs page: Swagger UI on the server's own OpenAPI document.
const root = document.getElementById('api-docs');
window.SwaggerUIBundle({
  url: root.dataset.spec,
  domNode: root,
  deepLinking: true,
  presets: [window.SwaggerUIBundle.presets.apis],
});
