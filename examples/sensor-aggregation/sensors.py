"""Reading checks and window summaries for sensor-aggregation.workflow.json.

Plain functions for the standard `map` and `filter` components, named in the workflow as
``sensors:<function>`` and imported from this folder when it runs: nothing to install.
"""

from __future__ import annotations

from statistics import fmean
from typing import Any

Reading = dict[str, Any]

# What the sensor can physically measure; anything else is a glitch, not weather.
PLAUSIBLE = {"temperature_c": (-20.0, 60.0), "humidity_pct": (0.0, 100.0)}


def parse_reading(row: dict[str, str]) -> Reading:
    """A CSV row as numbers; an empty or implausible value becomes null, with a note."""
    reading: Reading = {"timestamp": row["timestamp"], "notes": []}
    for field, (low, high) in PLAUSIBLE.items():
        text = row[field].strip()
        value: float | None = None
        if not text:
            reading["notes"].append(f"{row['timestamp']} {field} missing")
        else:
            value = float(text)
            if not low <= value <= high:
                reading["notes"].append(f"{row['timestamp']} {field} {text} out of range")
                value = None
        reading[field] = value
    return reading


def _stats(values: list[float], digits: int) -> tuple[Any, Any, Any]:
    if not values:
        return None, None, None
    return round(min(values), digits), round(fmean(values), digits), round(max(values), digits)


def summarise(window: list[Reading]) -> dict[str, Any]:
    """One window of readings as min / mean / max per measure, over the valid values."""
    temperatures = [r["temperature_c"] for r in window if r["temperature_c"] is not None]
    humidities = [r["humidity_pct"] for r in window if r["humidity_pct"] is not None]
    t_min, t_mean, t_max = _stats(temperatures, 2)
    h_min, h_mean, h_max = _stats(humidities, 1)
    notes = [note for reading in window for note in reading["notes"]]
    return {
        "from": window[0]["timestamp"],
        "to": window[-1]["timestamp"],
        "readings": len(window),
        "temperature_min": t_min,
        "temperature_mean": t_mean,
        "temperature_max": t_max,
        "humidity_min": h_min,
        "humidity_mean": h_mean,
        "humidity_max": h_max,
        "rejected_values": len(notes),
        "notes": "; ".join(notes),
    }


def needs_attention(summary: dict[str, Any]) -> bool:
    """A window with rejected values: someone should look at the sensor."""
    return bool(summary["rejected_values"])
