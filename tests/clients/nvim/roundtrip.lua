-- Headless Neovim (0.7+) as a real LSP client of `workcrew serve`:
-- create a workflow from a selection, approve it, wait for the finding, apply its quick-fix, check it clears.
-- Inputs come from the environment; the outcome is written as JSON to $WORKCREW_NVIM_RESULT.

local workspace = os.getenv("WORKCREW_NVIM_WORKSPACE")
local result_path = os.getenv("WORKCREW_NVIM_RESULT")
local server_cmd = vim.fn.json_decode(os.getenv("WORKCREW_NVIM_SERVER"))
local out = { steps = {} }

local function finish(ok, message)
  out.ok = ok
  out.message = message
  local file = io.open(result_path, "w")
  file:write(vim.fn.json_encode(out))
  file:close()
  vim.cmd("qa!")
end

local function step(name)
  table.insert(out.steps, name)
end

local finished = nil
local client_id = vim.lsp.start_client({
  name = "workcrew",
  cmd = server_cmd,
  root_dir = workspace,
  handlers = {
    ["window/showMessageRequest"] = function(_, params)
      -- the short question; "Details" first (the server writes a page and asks again), then "Run"
      out.approvals = out.approvals or {}
      table.insert(out.approvals, vim.tbl_map(function(a) return a.title end, params.actions or {}))
      out.approval = out.approval or params.message
      out.approval_actions = out.approval_actions or out.approvals[1]
      return { title = #out.approvals == 1 and "Details" or "Run" }
    end,
    ["window/showMessage"] = function(_, params)
      out.messages = out.messages or {}
      table.insert(out.messages, params.message)
    end,
    ["window/showDocument"] = function(_, params)
      out.shown = params.uri
      return { success = true }
    end,
    ["workcrew/runFinished"] = function(_, params)
      finished = params
    end,
    ["workcrew/runUpdate"] = function() end,
  },
})
if not client_id then
  return finish(false, "could not start the server")
end

vim.cmd("edit " .. workspace .. "/calc.py")
local buf = vim.api.nvim_get_current_buf()
vim.lsp.buf_attach_client(buf, client_id)
local client = vim.lsp.get_client_by_id(client_id)
if not vim.wait(15000, function() return client.server_capabilities ~= nil and client.initialized ~= false end) then
  return finish(false, "the server did not initialize")
end
step("initialized")

local uri = vim.uri_from_bufnr(buf)
local response = client.request_sync("workspace/executeCommand", {
  command = "workcrew.createWorkflowFromSelection",
  arguments = { { uri = uri, range = { start = { line = 0, character = 0 }, ["end"] = { line = 3, character = 0 } },
                  prompt = "find division by zero" } },
}, 60000, buf)
if not response or response.err then
  return finish(false, "createWorkflowFromSelection failed: " .. vim.inspect(response))
end
out.command = response.result
step("approved")

if not vim.wait(30000, function() return finished ~= nil and #vim.diagnostic.get(buf) > 0 end, 20) then
  return finish(false, "no diagnostics arrived")
end
out.finished = finished
local diagnostic = vim.diagnostic.get(buf)[1]
out.diagnostic = { lnum = diagnostic.lnum, col = diagnostic.col, source = diagnostic.source,
                   message = diagnostic.message }
step("diagnostics")

local line_diagnostics = vim.lsp.diagnostic.get_line_diagnostics(buf, diagnostic.lnum)
local params = {
  textDocument = { uri = uri },
  range = line_diagnostics[1].range,
  context = { diagnostics = line_diagnostics, only = { "quickfix" } },
}
local actions = vim.lsp.buf_request_sync(buf, "textDocument/codeAction", params, 10000)
local list = actions and actions[client_id] and actions[client_id].result or {}
out.actions = vim.tbl_map(function(a) return a.title end, list)
local fix = nil
for _, action in ipairs(list) do
  if vim.startswith(action.title, "Apply fix") then fix = action end
end
if not fix then
  return finish(false, "no Apply fix action")
end
out.deferred = fix.edit == nil
if fix.edit == nil then
  local resolved = client.request_sync("codeAction/resolve", fix, 10000, buf)
  if not resolved or resolved.err then
    return finish(false, "resolve failed: " .. vim.inspect(resolved))
  end
  fix = resolved.result
end
vim.lsp.util.apply_workspace_edit(fix.edit, "utf-16")
out.text = table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), "\n")
step("applied")

out.cleared = vim.wait(10000, function() return #vim.diagnostic.get(buf) == 0 end, 20)
step("cleared")
client.stop()
vim.wait(5000, function() return client.is_stopped() end, 20)
finish(true, "done")
