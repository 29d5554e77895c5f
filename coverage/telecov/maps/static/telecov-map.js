(function () {
  "use strict";
  var TC = window.telecov = {instances: []};
  var cache = {};
  TC.data = function (id) {
    if (!(id in cache)) { cache[id] = JSON.parse(document.getElementById(id).textContent); }
    return cache[id];
  };
  TC.num = function (x) { return Math.round(x).toLocaleString("en-US"); };

  /* Area outlines arrive as rings of integer deltas (telecov.maps._encode_geometry). */
  TC.latlngs = function (polygons, q) {
    return polygons.map(function (rings) {
      return rings.map(function (a) {
        var out = new Array(a.length / 2), x = 0, y = 0;
        for (var i = 0, j = 0; i < a.length; i += 2, j++) {
          x += a[i]; y += a[i + 1]; out[j] = new L.LatLng(y / q, x / q);
        }
        return out;
      });
    });
  };

  /* A layer built on first display (keeps big, hidden layers cheap). */
  TC.Lazy = L.Layer.extend({
    initialize: function (build) { this._build = build; this._inner = null; },
    onAdd: function (map) {
      if (!this._inner) { this._inner = this._build(map); }
      map.addLayer(this._inner);
    },
    onRemove: function (map) { if (this._inner) { map.removeLayer(this._inner); } },
    inner: function () { return this._inner; }
  });

  /* Areas: one GeoJSON layer, restyled by whichever technology layer is on. */
  TC.Communes = L.Class.extend({
    initialize: function (map, cfg, data) {
      this.map = map; this.cfg = cfg; this.dataId = data;
      this.current = 0; this.active = -1; this.geo = null;
      TC.instances.push(this);
    },
    style: function (f) {
      var m = f.p.m[this.current], k = m ? m[0] : -1, c = this.cfg;
      return {fillColor: k < 0 ? c.nodata : c.colors[k], fillOpacity: k < 0 ? 0.55 : 0.75,
              color: "#4a4a4a", weight: c.weight, opacity: 0.85, dashArray: k < 0 ? "3 3" : null};
    },
    tooltip: function (p) {
      var c = this.cfg, m = p.m[this.current], t = c.techs[this.current];
      var h = '<div class="tc-tip"><div class="tc-name">' + p.n + '</div>';
      if (p.p) { h += '<div class="tc-parent">' + p.p + '</div>'; }
      h += '<table><tr><th>Population</th><td>' + p.v + '</td></tr>';
      h += '<tr><th>' + t + ' coverage (' + c.metric + ')</th><td>' + m[1] + '</td></tr>';
      h += '<tr><th>Uncovered people</th><td>' + m[2] + '</td></tr>';
      if (m.length > 3) { h += '<tr><th>' + c.extra + '</th><td>' + m[3] + '</td></tr>'; }
      return h + '</table></div>';
    },
    popup: function (p) {
      var c = this.cfg;
      var h = '<div class="tc-tip"><div class="tc-name">' + p.n + '</div><div class="tc-parent">';
      h += (p.p ? p.p + ' · ' : '') + 'code ' + p.id + ' · population ' + p.v + '</div>';
      h += '<table><thead><tr><th>Technology</th><th>Covered (' + c.metric + ')</th>';
      h += '<th>Uncovered people</th></tr></thead>';
      for (var i = 0; i < c.techs.length; i++) {
        var m = p.m[i];
        h += '<tr><th><i class="tc-dot" style="background:' + c.techColors[i] + '"></i>';
        h += c.techs[i] + '</th><td>' + m[1] + '</td><td>' + m[2] + '</td></tr>';
      }
      return h + '</table></div>';
    },
    _build: function () {
      var self = this, c = this.cfg, data = TC.data(this.dataId), layers = [];
      data.features.forEach(function (f, k) {
        if (!f.g.length) { return; }
        var layer = L.polygon(TC.latlngs(f.g, data.scale), self.style(f));
        layer.feature = f;
        layer.tcIndex = k;
        layer.bindTooltip(function () { return self.tooltip(f.p); },
                          {sticky: true, className: "tc-tooltip"});
        layer.bindPopup(function () { return self.popup(f.p); }, {maxWidth: 420});
        layer.on("mouseover", function () {
          layer.setStyle({weight: Math.max(2.5, 3 * c.weight), color: "#111", opacity: 1});
          layer.bringToFront();
        });
        layer.on("mouseout", function () { layer.setStyle(self.style(f)); });
        layers.push(layer);
      });
      this.geo = L.featureGroup(layers);
    },
    show: function (i) {
      var self = this, c = this.cfg;
      this.current = i; this.active = i;
      if (!this.geo) { this._build(); }
      if (this.map.hasLayer(this.geo)) {
        this.geo.eachLayer(function (layer) { layer.setStyle(self.style(layer.feature)); });
      } else {
        this.map.addLayer(this.geo);
      }
      var box = this.map.getContainer();
      var head = box.querySelector(".tc-legend-head"), info = box.querySelector(".tc-totals");
      var title = box.querySelector(".tc-auto-title");
      if (head) { head.innerHTML = c.heads[i]; }
      if (title) { title.innerHTML = c.titles[i]; }
      if (info) { info.innerHTML = c.totals[i]; }
    },
    hide: function (i) {
      var self = this;
      if (this.active !== i) { return; }
      this.active = -1;
      setTimeout(function () {
        if (self.active < 0 && self.geo && self.map.hasLayer(self.geo)) {
          self.map.removeLayer(self.geo);
        }
      }, 0);
    }
  });

  TC.TechLayer = L.Layer.extend({
    initialize: function (communes, i) { this._c = communes; this._i = i; },
    onAdd: function () { this._c.show(this._i); },
    onRemove: function () { this._c.hide(this._i); }
  });

  TC.sitePopup = function (r, c) {
    var h = '<div class="tc-tip"><div class="tc-name">Site ' + r[2] + '</div><table>';
    h += '<tr><th>Operator</th><td>' + c.ops[r[3]] + '</td></tr>';
    h += '<tr><th>Technology</th><td>' + c.tech + '</td></tr>';
    h += '<tr><th>Radius</th><td>' + TC.num(r[4]) + ' m</td></tr>';
    if (r.length > 6) {
      h += '<tr><th>Sector</th><td>azimuth ' + r[6] + '°, width ' + r[7] + '°</td></tr>';
    }
    h += '<tr><th>Status</th><td>' + c.status[r[5]] + '</td></tr>';
    return h + '</table></div>';
  };

  /* Sites of one technology: compact rows -> clustered div-icon markers, one shared popup. */
  TC.sites = function (map, c, data) {
    return new TC.Lazy(function () {
      var rows = TC.data(data);
      var group = L.markerClusterGroup({
        chunkedLoading: true, showCoverageOnHover: false, maxClusterRadius: 35,
        iconCreateFunction: function (cl) {
          var n = cl.getChildCount(), s = n < 10 ? 22 : n < 100 ? 27 : n < 1000 ? 32 : 38;
          return L.divIcon({
            html: '<div style="background:' + c.color + ';color:' + c.text + '">' + n + '</div>',
            className: "tc-cluster", iconSize: L.point(s, s)});
        }
      });
      var dot = '<i style="background:' + c.color + '"></i>';
      var ring = '<i style="border-color:' + c.color + '"></i>';
      var icon = L.divIcon({className: "tc-site", html: dot, iconSize: [12, 12]});
      var hollow = L.divIcon({className: "tc-site tc-planned", html: ring, iconSize: [12, 12]});
      var markers = new Array(rows.length);
      for (var i = 0; i < rows.length; i++) {
        var r = rows[i];
        var mk = L.marker([r[0], r[1]], {icon: r[5] ? hollow : icon, keyboard: false});
        mk.tcRow = r;
        markers[i] = mk;
      }
      group.on("click", function (e) {
        var r = e.layer && e.layer.tcRow;
        if (!r) { return; }
        L.popup({offset: [0, -4]}).setLatLng(e.layer.getLatLng())
          .setContent(TC.sitePopup(r, c)).openOn(map);
      });
      /* add once on the map: then markercluster takes the chunked path (off the map it
         checks every marker against every other one) */
      group.once("add", function () { group.addLayers(markers); });
      return group;
    });
  };

  /* Footprints of many sites as one canvas path: discs, sectors and measured outlines filled
     with the nonzero rule, so that overlaps show as their union. Rows as in TC.sites; a sector
     spans azimuth ± width / 2 (azimuth: the boresight, clockwise from north, as
     telecov.footprints). shapes[i], when set, is row i's measured footprint (lobe, terrain
     shadows): rings as lat/lngs, exteriors clockwise and holes anticlockwise like the arcs, so
     a hole stays open unless another footprint covers it. */
  TC.Discs = L.Path.extend({
    options: {stroke: false, fill: true, fillRule: "nonzero", interactive: false},
    initialize: function (rows, shapes, options) {
      L.setOptions(this, options); this._rows = rows; this._shapes = shapes;
    },
    _projectShape: function (map, shape) {
      var rings = [], x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
      shape.forEach(function (poly) {
        poly.forEach(function (ring) {
          var a = new Float64Array(2 * ring.length);
          for (var j = 0; j < ring.length; j++) {
            var q = map.latLngToLayerPoint(ring[j]);
            a[2 * j] = q.x; a[2 * j + 1] = q.y;
            x0 = Math.min(x0, q.x); y0 = Math.min(y0, q.y); x1 = Math.max(x1, q.x); y1 = Math.max(y1, q.y);
          }
          rings.push(a);
        });
      });
      return {rings: rings, x: (x0 + x1) / 2, y: (y0 + y1) / 2, r: Math.max(x1 - x0, y1 - y0) / 2};
    },
    _project: function () {
      var map = this._map, rows = this._rows, n = rows.length, pts = new Float64Array(3 * n);
      var perMetre = map.options.crs.scale(map.getZoom()) / 40075016.686;
      var x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
      this._rings = new Array(n);
      for (var i = 0; i < n; i++) {
        var r = rows[i], s = this._shapes[i], x, y, rad;
        if (s) {
          var q = this._projectShape(map, s);
          this._rings[i] = q.rings; x = q.x; y = q.y; rad = q.r;
        } else {
          var p = map.latLngToLayerPoint([r[0], r[1]]);
          x = p.x; y = p.y; rad = r[4] * perMetre / Math.cos(r[0] * Math.PI / 180);
        }
        pts[3 * i] = x; pts[3 * i + 1] = y; pts[3 * i + 2] = rad;
        x0 = Math.min(x0, x - rad); y0 = Math.min(y0, y - rad);
        x1 = Math.max(x1, x + rad); y1 = Math.max(y1, y + rad);
      }
      this._pts = pts;
      this._pxBounds = n ? L.bounds([x0, y0], [x1, y1]) : null;
    },
    _update: function () { if (this._map) { this._updatePath(); } },
    _updatePath: function () {
      var rd = this._renderer;
      if (!rd._drawing || !this._pts) { return; }
      var ctx = rd._ctx, pts = this._pts, rows = this._rows, b = rd._bounds, d = Math.PI / 180;
      ctx.beginPath();
      for (var i = 0; i < rows.length; i++) {
        var x = pts[3 * i], y = pts[3 * i + 1], rad = Math.max(pts[3 * i + 2], 0.6), r = rows[i];
        if (b && (x + rad < b.min.x || x - rad > b.max.x || y + rad < b.min.y || y - rad > b.max.y)) {
          continue;
        }
        if (this._rings[i]) {
          this._rings[i].forEach(function (a) {
            ctx.moveTo(a[0], a[1]);
            for (var j = 2; j < a.length; j += 2) { ctx.lineTo(a[j], a[j + 1]); }
            ctx.closePath();
          });
        } else if (r.length > 6 && r[7] < 360) {
          var a0 = (r[6] - r[7] / 2 - 90) * d;
          ctx.moveTo(x, y);
          ctx.arc(x, y, rad, a0, a0 + r[7] * d, false);
          ctx.closePath();
        } else {
          ctx.moveTo(x + rad, y);
          ctx.arc(x, y, rad, 0, 2 * Math.PI, false);
        }
      }
      ctx.globalAlpha = this.options.fillOpacity;
      ctx.fillStyle = TC.hatch(ctx, this.options.fillColor);
      ctx.fill("nonzero");
    },
    _containsPoint: function () { return false; }
  });

  /* Diagonal hatching in a technology's colour: the area colours stay readable below. */
  TC.hatch = function (ctx, color) {
    var tile = document.createElement("canvas"), t;
    tile.width = tile.height = 8;
    t = tile.getContext("2d");
    t.strokeStyle = color; t.lineWidth = 2.2; t.lineCap = "square";
    t.beginPath(); t.moveTo(0, 8); t.lineTo(8, 0); t.moveTo(-2, 2); t.lineTo(2, -2);
    t.moveTo(6, 10); t.lineTo(10, 6); t.stroke();
    return ctx.createPattern(tile, "repeat");
  };

  TC.footprints = function (map, c, data, shapes) {
    return new TC.Lazy(function () {
      var all = TC.data(data), outline = {}, rows = [], polys = [];
      if (shapes) {
        var s = TC.data(shapes);
        s.shapes.forEach(function (e) { outline[e[0]] = TC.latlngs(e[1], s.scale); });
      }
      all.forEach(function (r, k) {
        if (r[5] === 0 || r[5] === 2) { rows.push(r); polys.push(outline[k] || null); }
      });
      TC.renderer = TC.renderer || L.canvas({pane: "tcFootprints", padding: 0.3});
      return new TC.Discs(rows, polys, {renderer: TC.renderer, pane: "tcFootprints", fillColor: c.color,
                                        fillOpacity: 0.75});
    });
  };

  /* Polygons or points from GeoJSON: gaps, points of interest. */
  TC.geo = function (map, c, data) {
    return new TC.Lazy(function () {
      return L.geoJSON(TC.data(data), {
        pane: c.pane, interactive: !!c.interactive,
        style: function (f) { return L.extend({}, c.style, (f.properties || {}).s); },
        pointToLayer: function (f, ll) {
          return L.circleMarker(ll, L.extend({pane: c.pane, interactive: !!c.interactive},
                                             c.style, (f.properties || {}).s));
        },
        onEachFeature: function (f, layer) {
          var t = f.properties && f.properties.t;
          if (c.interactive && t) {
            layer.bindTooltip(t, {sticky: true, className: "tc-tooltip"});
            layer.bindPopup(t);
          }
        }
      });
    });
  };

  TC.box = function (map, position, cls, html) {
    var ctl = L.control({position: position});
    ctl.onAdd = function () {
      var d = L.DomUtil.create("div", "tc-box " + cls);
      d.innerHTML = html;
      L.DomEvent.disableClickPropagation(d);
      L.DomEvent.disableScrollPropagation(d);
      return d;
    };
    return ctl.addTo(map);
  };

  TC.setup = function (map) {
    L.control.scale({imperial: false}).addTo(map);
    var z = {tcFootprints: 405, tcGaps: 420, tcPois: 450};
    Object.keys(z).forEach(function (name) {
      var p = map.createPane(name);
      p.style.zIndex = z[name];
      if (name === "tcFootprints") { p.style.pointerEvents = "none"; }
    });
  };
})();
