import { TILE_SIZE } from "../../protocol/tile-grid.js";
import { AUTHOR_PIXEL_COUNT_TAG, BATCH_AUTHORS_TAG } from "../../protocol/wire-tags.js";

/**
 * Lua sources of the Redis canvas store. Every script takes the keys
 * KEYS[1] = meta hash (epoch, seq, width, height, tile), KEYS[2] = tile version hash (tile name
 * "tx:ty" -> seq of the last batch that painted it), KEYS[3] = history stream (the write script
 * also its runs' budget keys), all from `canvasKeys`. Each painted tile is a packed RGB string at
 * KEYS[2] .. ':' .. tile name (`tileKey`): those keys are derived here rather than passed, since
 * which tiles exist is only known inside the script; they share the canvas's hash tag, so one
 * canvas stays in one cluster slot.
 *
 * Scripts run atomically, so a batch's pixels, tile versions, seq, history entry and publication
 * can never interleave with another batch: storage order = seq order = publish order.
 */

/**
 * The scripts publish with PUBLISH_COMMAND, which `withPublishCommand` defines as the first line of
 * the script: PUBLISH on one Redis, SPUBLISH on a Redis Cluster (the channel shares the canvas's
 * hash tag, so it is in the same slot and the message stays on the shard that owns the canvas).
 */
export function withPublishCommand(lua: string, command: "PUBLISH" | "SPUBLISH"): string {
  return `local PUBLISH_COMMAND = '${command}'\n${lua}`;
}

/**
 * Shared helpers. `prepare` makes sure the canvas exists and that its history can be trusted;
 * it starts a new epoch (and publishes an epoch marker, a PixelBatch without pixels) when:
 * - the canvas is missing (first use, or Redis lost it): the canvas is recreated white at seq 0,
 *   dropping any tile left behind;
 * - the stored seq is lower than the highest seq this service process saw in the same epoch, or
 *   the stored epoch is older than the one it saw (Redis came back from an older AOF/RDB): the
 *   pixels and seq are kept, history is dropped.
 * A canvas stored before tiles (meta without `tile`) is first cut into tiles by `migrate_legacy`,
 * keeping its epoch, seq and pixels, so its clients notice nothing.
 * A new epoch is `nextEpoch` of canvas-store.ts on Redis's clock: strictly greater than both the
 * stored epoch and the highest this process saw, so an epoch started in the same millisecond as
 * the one it replaces (or after Redis lost the canvas and its epoch) still orders after it.
 * Varints are built with division because seq and epoch (a ms timestamp) exceed 32 bits.
 */
const PRELUDE = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function varint(n)
  local b = {}
  while n >= 128 do
    b[#b + 1] = n % 128 + 128
    n = math.floor(n / 128)
  end
  b[#b + 1] = n
  return string.char(unpack(b))
end
local function prefix(seq, epoch)
  return '\\16' .. varint(seq) .. '\\48' .. varint(epoch)
end
local function new_epoch(stored, seen)
  return math.max(now_ms(), math.max(stored or 0, seen or 0) + 1)
end
local TILE = ${TILE_SIZE}
local function clear_tiles()
  for _, name in ipairs(redis.call('HKEYS', KEYS[2])) do
    redis.call('DEL', KEYS[2] .. ':' .. name)
  end
  redis.call('DEL', KEYS[2])
end
-- The whole-canvas string of the store before tiles: KEYS[2] with 'pixels' for 'tiles'.
local function legacy_key()
  return string.sub(KEYS[2], 1, -6) .. 'pixels'
end
-- Cuts the pre-tiles string into tiles (only those not all white), each at version seq, and
-- deletes it. False when there was no string of the right size to migrate.
local function migrate_legacy(width, height, seq)
  local all = redis.call('GET', legacy_key())
  clear_tiles()
  redis.call('DEL', legacy_key())
  if not all or #all ~= width * height * 3 then return false end
  local version = string.format('%d', seq)
  for ty = 0, math.ceil(height / TILE) - 1 do
    for tx = 0, math.ceil(width / TILE) - 1 do
      local tw, th = math.min(TILE, width - tx * TILE), math.min(TILE, height - ty * TILE)
      local rows = {}
      for r = 0, th - 1 do
        local o = ((ty * TILE + r) * width + tx * TILE) * 3
        rows[r + 1] = string.sub(all, o + 1, o + tw * 3)
      end
      local bytes = table.concat(rows)
      if bytes ~= string.rep('\\255', tw * th * 3) then
        redis.call('SET', KEYS[2] .. ':' .. tx .. ':' .. ty, bytes)
        redis.call('HSET', KEYS[2], tx .. ':' .. ty, version)
      end
    end
  end
  redis.call('HSET', KEYS[1], 'tile', TILE)
  return true
end
local function prepare(channel, width, height, seen_epoch, seen_seq, marker)
  local m = redis.call('HMGET', KEYS[1], 'epoch', 'seq', 'width', 'height', 'tile')
  local epoch, seq = tonumber(m[1]), tonumber(m[2])
  if epoch and (tonumber(m[3]) ~= width or tonumber(m[4]) ~= height) then
    return nil, 'SIZE_MISMATCH the stored canvas is ' .. tostring(m[3]) .. 'x' .. tostring(m[4])
  end
  local fresh = epoch == nil or seq == nil
  if not fresh and tonumber(m[5]) ~= TILE then
    if m[5] then return nil, 'SIZE_MISMATCH the stored canvas has tiles of ' .. tostring(m[5]) .. ' pixels' end
    fresh = not migrate_legacy(width, height, seq)
  end
  if fresh or epoch < seen_epoch or (epoch == seen_epoch and seq < seen_seq) then
    epoch = new_epoch(epoch, seen_epoch)
    if fresh then
      seq = 0
      clear_tiles()
    end
    redis.call('DEL', KEYS[3])
    redis.call('HSET', KEYS[1], 'epoch', string.format('%d', epoch), 'seq', string.format('%d', seq), 'width', width, 'height', height, 'tile', TILE)
    redis.call(PUBLISH_COMMAND, channel, prefix(seq, epoch) .. marker)
  end
  return epoch, seq
end
-- Writes packed pixels (see packPixelWrites: per tile a group of spans) into their tiles, creating
-- a tile filled with fill (the canvas background, 3 bytes RGB) on its first paint, and sets every
-- touched tile's version to seq.
local function store_pixels(packed, seq, fill)
  local byte, sub, call = string.byte, string.sub, redis.call
  local version = string.format('%d', seq)
  local i, n = 1, #packed
  while i <= n do
    local t1, t2, t3, t4, s1, s2, s3, l1, l2, l3, l4 = byte(packed, i, i + 10)
    local name = (t1 * 256 + t2) .. ':' .. (t3 * 256 + t4)
    local key = KEYS[2] .. ':' .. name
    local stop = i + 11 + ((l1 * 256 + l2) * 256 + l3) * 256 + l4
    i = i + 11
    -- Checked on the key, not the version field, so a tile key lost on its own never becomes a
    -- zero-padded (black, short) string under SETRANGE.
    if call('EXISTS', key) == 0 then
      -- The size is in bytes; fill is one 3-byte pixel.
      call('SET', key, string.rep(fill, ((s1 * 256 + s2) * 256 + s3) / 3))
    end
    call('HSET', KEYS[2], name, version)
    while i < stop do
      local a, b, c, d, e, f, g = byte(packed, i, i + 6)
      local offset, span, count = a * 65536 + b * 256 + c, d * 256 + e, f * 256 + g
      i = i + 7
      if count == span then
        call('SETRANGE', key, offset, sub(packed, i, i + count * 3 - 1))
        i = i + count * 3
      else
        local current = call('GETRANGE', key, offset, offset + span * 3 - 1)
        local parts, k, pos = {}, 0, 1
        for _ = 1, count do
          local h, l = byte(packed, i, i + 1)
          local at = (h * 256 + l) * 3
          parts[k + 1] = sub(current, pos, at)
          parts[k + 2] = sub(packed, i + 2, i + 4)
          k = k + 2
          pos = at + 4
          i = i + 5
        end
        parts[k + 1] = sub(current, pos)
        call('SETRANGE', key, offset, table.concat(parts))
      end
    end
  end
end
-- [history: previous colours] Reads the colour every pixel of packed writes had before them, into
-- prev (3-byte strings, in packed order: per tile, per span, per written pixel), before anything is
-- written. overlay (tile name -> byte offset -> colour), when given, holds what earlier runs of the
-- same batch will have written there, and gets this run's colours, so a pixel two runs paint reads
-- as the first run left it.
local function read_previous(packed, fill, prev, overlay)
  local byte, sub, call = string.byte, string.sub, redis.call
  local i, n = 1, #packed
  while i <= n do
    local t1, t2, t3, t4, _, _, _, l1, l2, l3, l4 = byte(packed, i, i + 10)
    local name = (t1 * 256 + t2) .. ':' .. (t3 * 256 + t4)
    local key = KEYS[2] .. ':' .. name
    local stop = i + 11 + ((l1 * 256 + l2) * 256 + l3) * 256 + l4
    i = i + 11
    local exists = call('EXISTS', key) == 1
    local over = overlay and overlay[name]
    if overlay and not over then
      over = {}
      overlay[name] = over
    end
    while i < stop do
      local a, b, c, d, e, f, g = byte(packed, i, i + 6)
      local offset, span, count = a * 65536 + b * 256 + c, d * 256 + e, f * 256 + g
      i = i + 7
      local current = exists and call('GETRANGE', key, offset, offset + span * 3 - 1) or nil
      local dense = count == span
      for k = 0, count - 1 do
        local at, colour
        if dense then
          at, colour = k * 3, i + k * 3
        else
          local h, l = byte(packed, i + k * 5, i + k * 5 + 1)
          at, colour = (h * 256 + l) * 3, i + k * 5 + 2
        end
        local before = over and over[offset + at]
        if not before then before = current and sub(current, at + 1, at + 3) or fill end
        prev[#prev + 1] = before
        if over then over[offset + at] = sub(packed, colour, colour + 2) end
      end
      i = i + (dense and count * 3 or count * 5)
    end
  end
end
-- [history: previous colours] The previous colours of one run in its pixels' order: order holds 4
-- bytes per pixel from 'at' (see previousColorOrder in pack-pixel-writes.ts): 0 and the index of the pixel in prev (packed
-- order), or 1 and the colour the same run wrote there just before (a pixel placed twice).
local function previous_in_order(prev, order, at, count, out)
  local byte, sub = string.byte, string.sub
  for j = 0, count - 1 do
    local o = at + j * 4
    local flag, a, b, c = byte(order, o, o + 3)
    if flag == 0 then out[#out + 1] = prev[(a * 256 + b) * 256 + c + 1] else out[#out + 1] = sub(order, o + 1, o + 3) end
  end
end
`;

/**
 * The placement budget rule of placement-budget.ts (`takeBudget`, `decideRuns`), variable for
 * variable, so both stores decide alike. A budget key holds "<level> <time>" (see BudgetState) and
 * expires (PX) when the budget would be full again. `now` comes from Redis TIME, so every canvas
 * replica charges budgets on one clock.
 */
const BUDGET_LUA = `
local function parse_rule(s)
  if s == '' then return nil end
  local kind, a, b = string.match(s, '^(%a) (%S+) (%S+)$')
  return { kind = kind, a = tonumber(a), b = tonumber(b) }
end
local function take_budget(rule, st, count, now)
  if rule.kind == 'r' then
    local per, burst = rule.a, rule.b
    local level = burst
    if st then level = math.min(burst, st[1] + (math.max(0, now - st[2]) * per) / 1000) end
    if count > level then
      return false, level, now, math.max(1, math.ceil(((count - level) * 1000) / per)), 1
    end
    level = level - count
    return true, level, now, 0, math.max(1, math.ceil(((burst - level) * 1000) / per))
  end
  local pixels, cooldown = rule.a, rule.b
  local used, start = 0, now
  if st and now < st[2] + cooldown then used, start = st[1], st[2] end
  local ttl = math.max(1, start + cooldown - now)
  if used + count > pixels then return false, used, start, ttl, ttl end
  return true, used + count, start, 0, ttl
end
local budget_cache, budget_writes = {}, {}
local function budget_state(key)
  local w = budget_writes[key]
  if w then return w end
  if budget_cache[key] == nil then
    local raw = redis.call('GET', key)
    local st = false
    if raw then
      local level, time = string.match(raw, '^(%S+) (%S+)$')
      st = { tonumber(level), tonumber(time) }
    end
    budget_cache[key] = st
  end
  return budget_cache[key] or nil
end
local function decide_run(user_rule, ip_rule, user_key, ip_key, count, now)
  local uok, ulevel, utime, uretry, uttl = take_budget(user_rule, budget_state(user_key), count, now)
  local iok, ilevel, itime, iretry, ittl = true, 0, 0, 0, 0
  local with_ip = ip_rule ~= nil and ip_key ~= nil
  if with_ip then iok, ilevel, itime, iretry, ittl = take_budget(ip_rule, budget_state(ip_key), count, now) end
  if uok and iok then
    budget_writes[user_key] = { ulevel, utime, uttl }
    if with_ip then budget_writes[ip_key] = { ilevel, itime, ittl } end
    return 0
  end
  return math.max(uretry, iretry)
end
local function store_budgets()
  for key, w in pairs(budget_writes) do
    redis.call('SET', key, string.format('%.17g %.17g', w[1], w[2]), 'PX', w[3])
  end
end
`;

/**
 * Stores one batch made of runs (placements), each checked against its placement budgets first.
 * KEYS[4..] are the budget keys of the runs (all in the canvas's slot). ARGV: 1 channel, 2 width,
 * 3 height, 4 seen epoch, 5 seen seq, 6 history MAXLEN, 7 epoch-marker body, 8 batch body head
 * (PixelBatch fields before the pixels), 9 body tail (fields after them), 10 user budget rule and
 * 11 network budget rule (`encodeRuleArg`, empty = none), 12 run count, then per run 6 values:
 * pixel count, KEYS index of its user budget (0 = unbudgeted), KEYS index of its network budget
 * (0 = none), its packed writes (per tile, spans of nearby pixels, see `packPixelWrites` and
 * `store_pixels`), its encoded pixels and its encoded PixelBatch.authors entries (after the
 * tail; refused runs leave out both); then the canvas background as 3 bytes RGB, which a tile is
 * filled with on its first paint; last, every run's `previousColorOrder` concatenated (4 bytes per
 * pixel), which orders the previous colours the script reads before writing into the history
 * entry's `p` field (services/history/history-source.ts).
 *
 * Returns {seq, epoch, retry_1, ..., retry_n}: per run 0 when stored, else ms until it would fit.
 * Accepted runs become one batch with one seq; when no run is accepted nothing is written and seq is
 * the canvas's current one. XADD runs before any pixel is written, so if it fails nothing of the
 * batch is stored (budgets are charged last, for the same reason). Every tile an accepted run
 * paints gets the batch's seq as its version.
 */
export const WRITE_BATCH_LUA = `${PRELUDE}${BUDGET_LUA}
local epoch, seq = prepare(ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[7])
if not epoch then return redis.error_reply(seq) end
local user_rule, ip_rule = parse_rule(ARGV[10]), parse_rule(ARGV[11])
local runs = tonumber(ARGV[12])
local now = now_ms()
local reply, accepted, parts, authors = { 0, epoch }, {}, { ARGV[8] }, {}
for r = 1, runs do
  local at = 12 + (r - 1) * 6
  local count, ui, ii = tonumber(ARGV[at + 1]), tonumber(ARGV[at + 2]), tonumber(ARGV[at + 3])
  local retry = 0
  if user_rule ~= nil and ui > 0 then
    retry = decide_run(user_rule, ip_rule, KEYS[ui], ii > 0 and KEYS[ii] or nil, count, now)
  end
  reply[r + 2] = retry
  if retry == 0 then
    accepted[#accepted + 1] = ARGV[at + 4]
    parts[#parts + 1] = ARGV[at + 5]
    authors[#authors + 1] = ARGV[at + 6]
  end
end
if #accepted == 0 then
  reply[1] = seq
  return reply
end
parts[#parts + 1] = ARGV[9]
seq = seq + 1
-- The live fan-out leaves authorship out (see PixelBatch.authors); the stored entry keeps it.
local live = prefix(seq, epoch) .. table.concat(parts)
local payload = live .. table.concat(authors)
local fill = ARGV[13 + runs * 6]
-- [history: previous colours] read before anything is written, in the batch's pixel order.
local previous = {}
do
  local order, at, k = ARGV[14 + runs * 6], 1, 0
  local overlay = #accepted > 1 and {} or nil
  for r = 1, runs do
    local count = tonumber(ARGV[12 + (r - 1) * 6 + 1])
    if reply[r + 2] == 0 then
      k = k + 1
      local prev = {}
      read_previous(accepted[k], fill, prev, overlay)
      previous_in_order(prev, order, at, count, previous)
    end
    at = at + count * 4
  end
end
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[6], string.format('%d-0', seq), 'b', payload, 'p', table.concat(previous))
for _, packed in ipairs(accepted) do
  store_pixels(packed, seq, fill)
end
redis.call('HINCRBY', KEYS[1], 'seq', 1)
store_budgets()
redis.call(PUBLISH_COMMAND, ARGV[1], live)
reply[1] = seq
return reply
`;

/**
 * Makes sure the canvas exists and is trustworthy (see `prepare`) without writing pixels.
 * ARGV: channel, width, height, seen epoch, seen seq, epoch-marker body. Returns {epoch, seq}.
 * The post-reconnect check runs it alone.
 */
export const PREPARE_CANVAS_LUA = `${PRELUDE}
local epoch, seq = prepare(ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6])
if not epoch then return redis.error_reply(seq) end
return {epoch, seq}
`;

/**
 * Clears the canvas to white at the configured size, restarts seq at 0, drops history, starts a
 * new epoch and publishes the epoch marker. ARGV: channel, width, height, epoch-marker body, seen
 * epoch. Returns the new epoch.
 */
export const RESET_CANVAS_LUA = `${PRELUDE}
local width, height = tonumber(ARGV[2]), tonumber(ARGV[3])
local epoch = new_epoch(tonumber(redis.call('HGET', KEYS[1], 'epoch')), tonumber(ARGV[5]))
clear_tiles()
redis.call('DEL', KEYS[3], legacy_key())
redis.call('HSET', KEYS[1], 'epoch', string.format('%d', epoch), 'seq', '0', 'width', width, 'height', height, 'tile', TILE)
redis.call(PUBLISH_COMMAND, ARGV[1], prefix(0, epoch) .. ARGV[4])
return epoch
`;

/**
 * Reads a whole canvas: prepares it (see `prepare`), then every painted tile. ARGV: channel,
 * width, height, seen epoch, seen seq, epoch-marker body. Returns {epoch, seq, tile names, tile
 * bytes}; in one script, so the snapshot is consistent at seq.
 */
export const READ_CANVAS_LUA = `${PRELUDE}
local epoch, seq = prepare(ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6])
if not epoch then return redis.error_reply(seq) end
local names = redis.call('HKEYS', KEYS[2])
local tiles = {}
for k, name in ipairs(names) do
  tiles[k] = redis.call('GET', KEYS[2] .. ':' .. name)
end
return {epoch, seq, names, tiles}
`;

/**
 * Reads one tile: prepares the canvas, then the tile's bytes and version. ARGV: channel, width,
 * height, seen epoch, seen seq, epoch-marker body, tile name. Returns {epoch, seq, version (0 when
 * never painted), bytes or nil}, consistent at seq.
 */
export const READ_TILE_LUA = `${PRELUDE}
local epoch, seq = prepare(ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6])
if not epoch then return redis.error_reply(seq) end
local version = redis.call('HGET', KEYS[2], ARGV[7])
return {epoch, seq, tonumber(version) or 0, redis.call('GET', KEYS[2] .. ':' .. ARGV[7])}
`;

/**
 * Reads every painted tile's version: prepares the canvas, then the tile hash. ARGV as for
 * PREPARE_CANVAS_LUA. Returns {epoch, seq, {name, version, ...}}, consistent at seq.
 */
export const READ_TILE_VERSIONS_LUA = `${PRELUDE}
local epoch, seq = prepare(ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6])
if not epoch then return redis.error_reply(seq) end
return {epoch, seq, redis.call('HGETALL', KEYS[2])}
`;

// ---- [history: conditional restore] (issue 12: undo and rollback; i12-rpc) ----

/**
 * Writes an undo or a rollback as one ordinary batch, each pixel only while it still shows the
 * colour the unwanted placement left (so a pixel painted since is never overwritten).
 * KEYS: the three canvas keys, then the undo allowance key (`canvasKeys(id).restoreLimit`, only
 * when ARGV[15] > 0). ARGV: 1 channel, 2 width, 3 height, 4 seen epoch, 5 seen seq, 6 history
 * MAXLEN, 7 epoch-marker body, 8 batch body head, 9 body tail, 10 background (3 bytes), 11 history
 * kind code (`k`), 12 the writes, 10 bytes each (x, y as 2 bytes, colour, expected colour as 3),
 * 13 their encoded PixelBatch.pixels entries in the same order (each tag, length, body), 14 the
 * encoded user_id and name fields of the batch's one Author run (empty: no run), 15 allowance
 * (restores per window, 0 = unlimited), 16 the window in ms.
 * Returns {seq, epoch, restored, retry ms}: restored 0 means nothing was written; retry > 0 means
 * the allowance refused it. The history entry's `p` field holds the colours the pixels had (the
 * expected ones) and `k` the kind, as history-source.ts describes.
 */
export const RESTORE_BATCH_LUA = `${PRELUDE}
local epoch, seq = prepare(ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[7])
if not epoch then return redis.error_reply(seq) end
local allowance = tonumber(ARGV[15])
if allowance > 0 and tonumber(redis.call('GET', KEYS[4]) or '0') >= allowance then
  return {seq, epoch, 0, math.max(1, redis.call('PTTL', KEYS[4]))}
end
local byte, sub, call = string.byte, string.sub, redis.call
local width, height, fill, writes, encoded = tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[10], ARGV[12], ARGV[13]
local chosen, previous, targets, pos = {}, {}, {}, 1
for o = 1, #writes, 10 do
  local x1, x2, y1, y2 = byte(writes, o, o + 3)
  local x, y = x1 * 256 + x2, y1 * 256 + y2
  local size = byte(encoded, pos + 1) + 2
  local tx, ty = math.floor(x / TILE), math.floor(y / TILE)
  local at = ((y - ty * TILE) * math.min(TILE, width - tx * TILE) + x - tx * TILE) * 3
  local key = KEYS[2] .. ':' .. tx .. ':' .. ty
  local current = call('GETRANGE', key, at, at + 2)
  if current == '' then current = fill end
  if current == sub(writes, o + 7, o + 9) then
    chosen[#chosen + 1] = sub(encoded, pos, pos + size - 1)
    previous[#previous + 1] = current
    targets[#targets + 1] = { key, tx .. ':' .. ty, at, sub(writes, o + 4, o + 6), math.min(TILE, width - tx * TILE) * math.min(TILE, height - ty * TILE) }
  end
  pos = pos + size
end
if #chosen == 0 then return {seq, epoch, 0, 0} end
seq = seq + 1
local authors = ''
if ARGV[14] ~= '' then
  local run = ARGV[14] .. '\\${AUTHOR_PIXEL_COUNT_TAG}' .. varint(#chosen)
  authors = '\\${BATCH_AUTHORS_TAG}' .. varint(#run) .. run
end
local live = prefix(seq, epoch) .. ARGV[8] .. table.concat(chosen) .. ARGV[9]
local payload = live .. authors
call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[6], string.format('%d-0', seq), 'b', payload, 'p', table.concat(previous), 'k', ARGV[11])
local version = string.format('%d', seq)
for _, t in ipairs(targets) do
  if call('EXISTS', t[1]) == 0 then call('SET', t[1], string.rep(fill, t[5])) end
  call('HSET', KEYS[2], t[2], version)
  call('SETRANGE', t[1], t[3], t[4])
end
call('HINCRBY', KEYS[1], 'seq', 1)
if allowance > 0 and call('INCR', KEYS[4]) == 1 then call('PEXPIRE', KEYS[4], ARGV[16]) end
call(PUBLISH_COMMAND, ARGV[1], live)
return {seq, epoch, #chosen, 0}
`;
// ---- end [history: conditional restore] ----
