/**
 * Lua sources of the Redis canvas store. Every script takes the keys
 * KEYS[1] = meta hash (epoch, seq, width, height), KEYS[2] = packed RGB string,
 * KEYS[3] = history stream, all from `canvasKeys`, so one canvas stays in one cluster slot.
 *
 * Scripts run atomically, so a batch's pixels, its seq, its history entry and its publication
 * can never interleave with another batch: storage order = seq order = publish order.
 */

/**
 * Shared helpers. `prepare` makes sure the canvas exists and that its history can be trusted;
 * it starts a new epoch (and publishes an epoch marker, a PixelBatch without pixels) when:
 * - the canvas is missing or its pixel string has the wrong length (first use, or Redis lost it):
 *   the canvas is recreated white at seq 0;
 * - the stored seq is lower than the highest seq this service process saw in the same epoch, or
 *   the stored epoch is older than the one it saw (Redis came back from an older AOF/RDB): the
 *   pixels and seq are kept, history is dropped.
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
local function prepare(channel, width, height, seen_epoch, seen_seq, marker)
  local m = redis.call('HMGET', KEYS[1], 'epoch', 'seq', 'width', 'height')
  local epoch, seq = tonumber(m[1]), tonumber(m[2])
  if epoch and (tonumber(m[3]) ~= width or tonumber(m[4]) ~= height) then
    return nil, 'SIZE_MISMATCH the stored canvas is ' .. tostring(m[3]) .. 'x' .. tostring(m[4])
  end
  local size = width * height * 3
  local fresh = epoch == nil or seq == nil or redis.call('STRLEN', KEYS[2]) ~= size
  if fresh or epoch < seen_epoch or (epoch == seen_epoch and seq < seen_seq) then
    epoch = new_epoch(epoch, seen_epoch)
    if fresh then
      seq = 0
      redis.call('SET', KEYS[2], string.rep('\\255', size))
    end
    redis.call('DEL', KEYS[3])
    redis.call('HSET', KEYS[1], 'epoch', string.format('%d', epoch), 'seq', string.format('%d', seq), 'width', width, 'height', height)
    redis.call('PUBLISH', channel, prefix(seq, epoch) .. marker)
  end
  return epoch, seq
end
`;

/**
 * Stores one batch. ARGV: channel, width, height, packed writes (spans of nearby pixels, see
 * `packPixelWrites`: a run is one SETRANGE, a sparse span one GETRANGE + one SETRANGE), batch body (PixelBatch without seq/epoch), seen epoch, seen seq, history
 * MAXLEN, epoch-marker body. Returns {seq, epoch}. XADD runs before any pixel is written, so if it
 * fails nothing of the batch is stored.
 */
export const WRITE_BATCH_LUA = `${PRELUDE}
local epoch, seq = prepare(ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[6]), tonumber(ARGV[7]), ARGV[9])
if not epoch then return redis.error_reply(seq) end
seq = seq + 1
local payload = prefix(seq, epoch) .. ARGV[5]
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[8], string.format('%d-0', seq), 'b', payload)
local packed, key, byte, sub, call = ARGV[4], KEYS[2], string.byte, string.sub, redis.call
local i, n = 1, #packed
while i <= n do
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
redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('PUBLISH', ARGV[1], payload)
return {seq, epoch}
`;

/**
 * Makes sure the canvas exists and is trustworthy (see `prepare`) without writing pixels.
 * ARGV: channel, width, height, seen epoch, seen seq, epoch-marker body. Returns {epoch, seq}.
 * GetCanvas runs it in the same MULTI as the GET of the pixels, so the snapshot is consistent.
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
redis.call('SET', KEYS[2], string.rep('\\255', width * height * 3))
redis.call('DEL', KEYS[3])
redis.call('HSET', KEYS[1], 'epoch', string.format('%d', epoch), 'seq', '0', 'width', width, 'height', height)
redis.call('PUBLISH', ARGV[1], prefix(0, epoch) .. ARGV[4])
return epoch
`;
