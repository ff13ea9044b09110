// The pools' history from /v1/summary as uPlot charts: VMs cloned and booted per day, and their average durations.
import uPlot from "uplot";
import type { Summary } from "./api.ts";

const DAY_S = 86_400;

/** The summary's range: the last 30 days, UTC dates as the API takes them. */
export function summaryRange(now = new Date()): { from: string; to: string } {
  const day = (d: Date) => d.toISOString().slice(0, 10);
  return { from: day(new Date(now.getTime() - 29 * DAY_S * 1000)), to: day(now) };
}

interface ChartSpec {
  title: string;
  unit: string;
  series: { label: string; stroke: string; values: (s: Summary["daily"][number]) => number }[];
}

const CHARTS: ChartSpec[] = [
  {
    title: "VMs per day",
    unit: "VMs",
    series: [
      { label: "cloned", stroke: "#2563eb", values: (d) => d.clone.count.total },
      { label: "booted", stroke: "#16a34a", values: (d) => d.boot.count.total },
    ],
  },
  {
    title: "Average duration per day",
    unit: "s",
    series: [
      { label: "clone", stroke: "#9333ea", values: (d) => d.clone.duration.average },
      { label: "boot", stroke: "#ea580c", values: (d) => d.boot.duration.average },
    ],
  },
];

const plots: uPlot[] = [];

/** Draws (or redraws) every chart into `box` from one summary. */
export function drawCharts(box: HTMLElement, summary: Summary): void {
  const xs = summary.daily.map((d) => Date.parse(`${d.date}T00:00:00Z`) / 1000);
  const width = Math.max(320, Math.floor((box.clientWidth || 900) / (box.clientWidth > 900 ? 2 : 1)) - 24);
  CHARTS.forEach((spec, i) => {
    const data: uPlot.AlignedData = [xs, ...spec.series.map((s) => summary.daily.map(s.values))];
    const existing = plots[i];
    if (existing) {
      existing.setData(data);
      return;
    }
    const holder = document.createElement("div");
    holder.className = "chart";
    holder.dataset.chart = spec.title;
    box.append(holder);
    plots[i] = new uPlot(
      {
        title: spec.title,
        width,
        height: 220,
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
        axes: [{}, { label: spec.unit }],
        series: [
          {},
          ...spec.series.map((s) => ({ label: s.label, stroke: s.stroke, width: 2, points: { show: true } })),
        ],
      },
      data,
      holder,
    );
  });
}
