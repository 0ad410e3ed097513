// A live line chart over uPlot (small, fast, no dependencies; draws on a canvas, so no data ever
// becomes markup): a time axis and a few named series, fed one sample at a time.
import uPlot from './vendor/uplot.js';
import { h } from './dom.js';

const COLORS = ['#2f6fdf', '#d9822b', '#2a9d5c', '#c23b5a', '#7b5bd6', '#6b7280'];
/** Samples kept: five minutes at one a second. */
const KEEP = 300;

export class LiveChart {
  constructor(title) {
    this.title = title;
    this.names = [];
    this.times = [];
    this.values = new Map();
    this.element = h('figure', { class: 'chart' }, h('figcaption', {}, title));
    this.plot = null;
    new ResizeObserver(() => this.plot?.setSize(this.size())).observe(this.element);
  }

  size() {
    return { width: Math.max(this.element.clientWidth - 4, 200), height: 180 };
  }

  /** Adds one sample: `at` in ms, `values` a map of series name -> number. */
  add(at, values) {
    this.times.push(at / 1000);
    for (const [name, value] of Object.entries(values)) {
      if (!this.values.has(name)) this.values.set(name, new Array(this.times.length - 1).fill(null));
    }
    for (const [name, series] of this.values) series.push(values[name] ?? null);
    if (this.times.length > KEEP) {
      this.times.shift();
      for (const series of this.values.values()) series.shift();
    }
    this.draw();
  }

  draw() {
    const names = [...this.values.keys()];
    const data = [this.times, ...names.map((name) => this.values.get(name))];
    if (this.plot === null || names.join('\n') !== this.names.join('\n')) {
      this.plot?.destroy();
      this.names = names;
      this.plot = new uPlot(
        {
          ...this.size(),
          legend: { live: false },
          cursor: { drag: { x: false, y: false } },
          scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
          series: [{}, ...names.map((name, i) => ({ label: name, stroke: COLORS[i % COLORS.length], width: 1.5, points: { show: false } }))],
        },
        data,
        this.element,
      );
    } else {
      this.plot.setData(data);
    }
  }
}
