# Written by llminfra: `nvidia-smi --query-gpu=... --format=csv[,nounits]` (header line kept)
# to Prometheus' text format, for the node exporter's textfile collector.
# Columns are found by their header name, so the query may list fields in any order; a unit
# after a value ("143771 MiB") is dropped; values nvidia-smi cannot give ([N/A],
# [Not Supported]) leave the sample out. Samples are printed grouped per metric, as the text
# format requires. POSIX awk only (Debian's mawk runs it).
BEGIN {
    FS = ", *"
    n = split("utilization.gpu utilization.memory memory.used memory.total " \
              "temperature.gpu power.draw power.limit", order, " ")
    metric["utilization.gpu"] = "llminfra_gpu_utilization_ratio"
    scale["utilization.gpu"] = 0.01
    help["utilization.gpu"] = "Share of time a kernel ran (nvidia-smi utilization.gpu)."
    metric["utilization.memory"] = "llminfra_gpu_memory_utilization_ratio"
    scale["utilization.memory"] = 0.01
    help["utilization.memory"] = "Share of time memory was read or written."
    metric["memory.used"] = "llminfra_gpu_memory_used_bytes"
    scale["memory.used"] = 1048576
    help["memory.used"] = "GPU memory in use."
    metric["memory.total"] = "llminfra_gpu_memory_total_bytes"
    scale["memory.total"] = 1048576
    help["memory.total"] = "GPU memory installed."
    metric["temperature.gpu"] = "llminfra_gpu_temperature_celsius"
    scale["temperature.gpu"] = 1
    help["temperature.gpu"] = "GPU core temperature."
    metric["power.draw"] = "llminfra_gpu_power_draw_watts"
    scale["power.draw"] = 1
    help["power.draw"] = "Power drawn by the board."
    metric["power.limit"] = "llminfra_gpu_power_limit_watts"
    scale["power.limit"] = 1
    help["power.limit"] = "Power limit of the board."
    rows = 0
}

function label(value) {
    gsub(/\\/, "\\\\", value)
    gsub(/"/, "\\\"", value)
    return value
}

function number(cell) {
    sub(/^ +/, "", cell)
    sub(/ .*$/, "", cell)
    return cell ~ /^-?[0-9]+(\.[0-9]+)?$/ ? cell : ""
}

NR == 1 {
    for (i = 1; i <= NF; i++) {
        name = $i
        sub(/ *\[.*$/, "", name)
        sub(/^ +/, "", name)
        column[name] = i
    }
    next
}

NF > 1 && ("index" in column) {
    index_cell = number($column["index"])
    if (index_cell == "")
        next
    rows++
    labels[rows] = "gpu=\"" index_cell "\""
    if ("uuid" in column)
        labels[rows] = labels[rows] ",uuid=\"" label($column["uuid"]) "\""
    if ("name" in column)
        labels[rows] = labels[rows] ",name=\"" label($column["name"]) "\""
    driver[rows] = ("driver_version" in column) ? label($column["driver_version"]) : ""
    for (k = 1; k <= n; k++) {
        field = order[k]
        if (!(field in column))
            continue
        v = number($column[field])
        if (v != "")
            value[field, rows] = v * scale[field]
    }
}

END {
    print "# HELP llminfra_gpu_nvidia_smi_up Whether nvidia-smi listed any GPU on the last run."
    print "# TYPE llminfra_gpu_nvidia_smi_up gauge"
    print "llminfra_gpu_nvidia_smi_up " (rows > 0 ? 1 : 0)
    if (rows == 0)
        exit 0
    print "# HELP llminfra_gpu_info The GPU's identity and driver (value 1)."
    print "# TYPE llminfra_gpu_info gauge"
    for (r = 1; r <= rows; r++)
        print "llminfra_gpu_info{" labels[r] ",driver_version=\"" driver[r] "\"} 1"
    for (k = 1; k <= n; k++) {
        field = order[k]
        started = 0
        for (r = 1; r <= rows; r++) {
            if (!((field, r) in value))
                continue
            if (!started) {
                print "# HELP " metric[field] " " help[field]
                print "# TYPE " metric[field] " gauge"
                started = 1
            }
            printf "%s{%s} %.15g\n", metric[field], labels[r], value[field, r]
        }
    }
}
