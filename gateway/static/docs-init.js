// Swagger UI over this gateway's OpenAPI document; the files come from the swagger-ui-bundle
// package through the gateway (no CDN).
window.ui = SwaggerUIBundle({
  url: '/api/v1/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
  validatorUrl: null,
});
