/*
 * The metrics dashboard's script (inlined into GET /dashboard by functions/metrics-api/page.ts; chart.js is inlined
 * before it). It fetches GET /metrics from the same origin with the bearer token and draws the targets table and the
 * trend charts. The token comes from the URL fragment (#token=…, which browsers never send to a server) or from a
 * form, and is kept in sessionStorage: this tab only, gone when it closes.
 *
 * For tests and curious admins: window.__dashboard holds the last payload and exactly the data each chart was given;
 * <main data-state> is loading | ready | error | token, and data-renders counts the renders.
 */
(function () {
  'use strict';

  var config = JSON.parse(document.getElementById('dashboard-config').textContent);
  var TOKEN_KEY = 'outreach.metrics.token';
  var QUERY_KEYS = ['from', 'to', 'days', 'campaign'];
  var GRANULARITIES = ['day', 'week', 'month'];
  var COLORS = ['#2f6fdf', '#c2410c', '#15803d', '#7c3aed', '#64748b'];
  var STATUS_NOTE = {
    'on-target': 'meets its target',
    'off-target': 'misses its target',
    'no-data': 'no data in the period',
    'no-target': 'no target set',
  };

  var byId = function (id) {
    return document.getElementById(id);
  };
  var main = byId('dashboard');
  var controls = byId('controls');
  var tokenForm = byId('token-form');
  var statusLine = byId('status');

  var state = {
    token: undefined,
    /** The page's own query: from/to or days, campaign, per (granularity). Mirrored in the address bar. */
    params: new URLSearchParams(),
    payload: undefined,
    campaigns: {},
    charts: {},
    renders: 0,
  };
  window.__dashboard = { view: undefined, granularity: undefined, campaign: undefined, charts: {} };

  // ---------------------------------------------------------------------------------------------------------------
  // Token

  var memoryToken;
  function storeToken(token) {
    memoryToken = token;
    try {
      if (token) sessionStorage.setItem(TOKEN_KEY, token);
      else sessionStorage.removeItem(TOKEN_KEY);
    } catch (error) {
      // Storage disabled: the token lives as long as the page.
    }
  }
  function storedToken() {
    try {
      return sessionStorage.getItem(TOKEN_KEY) || memoryToken;
    } catch (error) {
      return memoryToken;
    }
  }
  function takeTokenFromFragment() {
    var fragment = new URLSearchParams(location.hash.slice(1));
    var token = fragment.get('token');
    if (token) {
      storeToken(token.trim());
      // Off the address bar, bookmarks and history.
      history.replaceState(null, '', location.pathname + location.search);
    }
  }

  function askForToken(message) {
    setState('token');
    controls.hidden = true;
    byId('report').hidden = true;
    tokenForm.hidden = false;
    byId('token-message').textContent = message;
    status('');
    byId('token-input').focus();
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Loading

  function setState(value) {
    main.setAttribute('data-state', value);
  }

  function status(text, isError) {
    statusLine.textContent = text;
    statusLine.className = isError ? 'error' : '';
  }

  function fail(message) {
    setState('error');
    status(message, true);
    // The controls stay usable, so a bad range from the address bar can be corrected.
    tokenForm.hidden = true;
    controls.hidden = false;
  }

  function syncAddressBar() {
    var query = state.params.toString();
    history.replaceState(null, '', location.pathname + (query ? '?' + query : ''));
  }

  function load() {
    state.token = storedToken();
    if (!state.token) return askForToken('This page needs the metrics API token.');
    syncAddressBar();
    setState('loading');
    status('Loading…');
    var query = new URLSearchParams();
    QUERY_KEYS.forEach(function (key) {
      var value = state.params.get(key);
      if (value) query.set(key, value);
    });
    var url = new URL('metrics' + (query.toString() ? '?' + query.toString() : ''), location.href);
    return fetch(url, {
      headers: { authorization: 'Bearer ' + state.token, accept: 'application/json' },
      cache: 'no-store',
      credentials: 'omit',
      referrerPolicy: 'no-referrer',
    }).then(
      function (response) {
        if (response.status === 401) {
          storeToken(undefined);
          return askForToken('The token was not accepted. Enter the current one.');
        }
        return response.json().then(
          function (body) {
            if (!response.ok) return fail((body && body.error) || 'The metrics API answered ' + response.status + '.');
            state.payload = body;
            render();
          },
          function () {
            fail('The metrics API answered ' + response.status + ' without JSON.');
          },
        );
      },
      function (error) {
        fail('The metrics could not be fetched: ' + error.message);
      },
    );
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Rendering

  function granularity() {
    var per = state.params.get('per');
    return GRANULARITIES.indexOf(per) >= 0 ? per : 'week';
  }

  function selectedCampaign() {
    return state.params.get('campaign') || undefined;
  }

  function formatNumber(metric, value) {
    if (value === undefined || value === null) return 'no data';
    var definition = config.metrics[metric];
    var text = value.toFixed(definition.decimals);
    return definition.unit === 'percent' ? text + ' %' : text;
  }

  function render() {
    var payload = state.payload;
    var result = payload.result;
    var campaign = selectedCampaign();
    tokenForm.hidden = true;
    controls.hidden = false;
    byId('report').hidden = false;

    byId('period').textContent =
      (campaign ? 'Campaign ' + campaign : 'All campaigns') +
      ', ' + result.period.from + ' – ' + result.period.to + ' (' + result.period.days + (result.period.days === 1 ? ' day' : ' days') + ')' +
      ', trend against ' + result.previousPeriod.from + ' – ' + result.previousPeriod.to;
    byId('from').value = result.period.from;
    byId('to').value = result.period.to;
    byId('granularity').value = granularity();
    Array.prototype.forEach.call(controls.querySelectorAll('[data-days]'), function (button) {
      button.setAttribute('aria-pressed', String(state.params.get('days') === button.getAttribute('data-days')));
    });
    renderCampaigns(result, campaign);
    renderTable(payload, campaign);
    drawCharts();

    state.renders += 1;
    main.setAttribute('data-renders', String(state.renders));
    status('Figures as of ' + result.asOf + ' (UTC).');
    setState('ready');
  }

  function renderCampaigns(result, campaign) {
    Object.keys(result.campaigns).forEach(function (id) {
      state.campaigns[id] = true;
    });
    if (campaign) state.campaigns[campaign] = true;
    var select = byId('campaign');
    while (select.options.length > 1) select.remove(1);
    Object.keys(state.campaigns)
      .sort()
      .forEach(function (id) {
        var option = document.createElement('option');
        option.value = id;
        option.textContent = id;
        select.appendChild(option);
      });
    select.value = campaign || '';
  }

  function cell(row, text, className) {
    var td = document.createElement('td');
    td.textContent = text;
    if (className) td.className = className;
    row.appendChild(td);
    return td;
  }

  function renderTable(payload, campaign) {
    var body = byId('targets').tBodies[0];
    body.textContent = '';
    var provisional = false;
    payload.report.forEach(function (row, index) {
      var display = payload.table[index];
      var tr = document.createElement('tr');
      tr.className = row.status;
      tr.setAttribute('data-metric', row.metric);
      tr.setAttribute('data-status', row.status);
      var th = document.createElement('th');
      th.scope = 'row';
      th.textContent = display.label;
      tr.appendChild(th);
      cell(tr, display.target, 'number target');
      var current = cell(tr, display.current, 'number current');
      current.setAttribute('data-value', row.current === undefined ? '' : String(row.current));
      cell(tr, String(row.count), 'number count');
      cell(tr, display.trend, 'number trend');
      var statusCell = cell(tr, display.status, 'status');
      statusCell.title = STATUS_NOTE[row.status];
      if (row.provisional && row.current !== undefined) provisional = true;
      body.appendChild(tr);
    });
    var notes = [];
    if (provisional) notes.push('* provisional: some customers can still make a second purchase within the repeat window.');
    if (campaign) notes.push('Contracts and purchases belong to no campaign: their charts show every customer.');
    byId('targets-note').textContent = notes.join(' ');
  }

  function scopeSeries(spec) {
    var result = state.payload.result;
    var campaign = selectedCampaign();
    var scope = spec.scope === 'survey' && campaign ? result.campaigns[campaign] : result.overall;
    return scope ? scope.series[granularity()] : [];
  }

  /** The targets of a chart's metrics, from the report the table shows (a campaign's own targets when one is selected). */
  function chartTargets(spec) {
    var rows = (state.payload && state.payload.report) || [];
    return spec.metrics
      .map(function (metric, index) {
        var row = rows.find(function (r) {
          return r.metric === metric;
        });
        return row && row.target ? { metric: metric, comparator: row.target.comparator, value: row.target.value, color: COLORS[index % COLORS.length] } : undefined;
      })
      .filter(Boolean);
  }

  /** Draws each target as a dashed horizontal line with its label, over the data (no dataset: the data stays the API's). */
  var targetLines = {
    id: 'targetLines',
    afterDatasetsDraw: function (chart, _args, options) {
      var area = chart.chartArea;
      var y = chart.scales.y;
      var ctx = chart.ctx;
      (options.targets || []).forEach(function (target) {
        var at = y.getPixelForValue(target.value);
        if (at < area.top || at > area.bottom) return;
        ctx.save();
        ctx.strokeStyle = target.color;
        ctx.globalAlpha = 0.7;
        ctx.setLineDash([6, 4]);
        ctx.lineWidth = 1.5;
        ctx.beginPath();
        ctx.moveTo(area.left, at);
        ctx.lineTo(area.right, at);
        ctx.stroke();
        ctx.setLineDash([]);
        ctx.globalAlpha = 1;
        ctx.fillStyle = target.color;
        ctx.font = '11px system-ui, sans-serif';
        ctx.textAlign = 'right';
        ctx.textBaseline = 'bottom';
        ctx.fillText('target ' + (target.comparator === '>=' ? '≥ ' : '≤ ') + formatNumber(target.metric, target.value), area.right - 4, at - 2);
        ctx.restore();
      });
    },
  };

  function drawCharts() {
    var drawn = {};
    config.charts.forEach(function (spec) {
      var points = scopeSeries(spec);
      var labels = points.map(function (point) {
        return point.bucket;
      });
      var datasets = spec.metrics.map(function (metric, index) {
        var values = points.map(function (point) {
          var value = point.metrics[metric];
          return value && value.value !== undefined ? value.value : null;
        });
        var counts = points.map(function (point) {
          var value = point.metrics[metric];
          return value ? value.count : 0;
        });
        return {
          label: config.metrics[metric].label,
          data: values,
          counts: counts,
          metric: metric,
          borderColor: COLORS[index % COLORS.length],
          backgroundColor: COLORS[index % COLORS.length],
          pointRadius: 3,
          // A point on the axis's edge (0 %, 100 %) is drawn whole.
          clip: false,
          spanGaps: false,
          tension: 0,
        };
      });
      var previous = state.charts[spec.id];
      if (previous) previous.destroy();
      var targets = chartTargets(spec);
      state.charts[spec.id] = new Chart(byId('chart-' + spec.id), {
        type: 'line',
        data: { labels: labels, datasets: datasets },
        plugins: [targetLines],
        options: {
          animation: false,
          responsive: true,
          maintainAspectRatio: false,
          interaction: { mode: 'index', intersect: false },
          scales: {
            x: { ticks: { maxRotation: 0, autoSkip: true } },
            y: { min: spec.y.min, max: spec.y.max },
          },
          plugins: {
            targetLines: { targets: targets },
            legend: { display: spec.metrics.length > 1 },
            tooltip: {
              callbacks: {
                label: function (context) {
                  var dataset = context.dataset;
                  return dataset.label + ': ' + formatNumber(dataset.metric, context.parsed.y) + ' (n = ' + dataset.counts[context.dataIndex] + ')';
                },
              },
            },
          },
        },
      });
      drawn[spec.id] = {
        targets: targets.map(function (target) {
          return { metric: target.metric, comparator: target.comparator, value: target.value };
        }),
        labels: labels.slice(),
        datasets: datasets.map(function (dataset) {
          return { metric: dataset.metric, label: dataset.label, data: dataset.data.slice(), counts: dataset.counts.slice() };
        }),
      };
    });
    window.__dashboard = { view: state.payload, granularity: granularity(), campaign: selectedCampaign(), charts: drawn };
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Controls

  function setRange(entries) {
    var campaign = state.params.get('campaign');
    var per = state.params.get('per');
    state.params = new URLSearchParams(entries);
    if (campaign) state.params.set('campaign', campaign);
    if (per) state.params.set('per', per);
  }

  controls.addEventListener('submit', function (event) {
    event.preventDefault();
    setRange({ from: byId('from').value, to: byId('to').value });
    load();
  });
  Array.prototype.forEach.call(controls.querySelectorAll('[data-days]'), function (button) {
    button.addEventListener('click', function () {
      setRange({ days: button.getAttribute('data-days') });
      load();
    });
  });
  byId('campaign').addEventListener('change', function (event) {
    if (event.target.value) state.params.set('campaign', event.target.value);
    else state.params.delete('campaign');
    load();
  });
  byId('granularity').addEventListener('change', function (event) {
    state.params.set('per', event.target.value);
    syncAddressBar();
    if (state.payload) {
      drawCharts();
      state.renders += 1;
      main.setAttribute('data-renders', String(state.renders));
    }
  });
  tokenForm.addEventListener('submit', function (event) {
    event.preventDefault();
    var token = byId('token-input').value.trim();
    if (!token) return;
    byId('token-input').value = '';
    storeToken(token);
    load();
  });

  // ---------------------------------------------------------------------------------------------------------------
  // Start

  takeTokenFromFragment();
  var initial = new URLSearchParams(location.search);
  QUERY_KEYS.concat(['per']).forEach(function (key) {
    var value = initial.get(key);
    if (value) state.params.set(key, value);
  });
  load();
})();
