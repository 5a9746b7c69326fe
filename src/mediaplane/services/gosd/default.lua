-- The script of a plan that has no files.lua (set MEDIAPLANE_GOSD_LUA_FILE for a fleet-wide one).
function main(plan)
  error("this plan has no script: upload a Lua file and name it in the plan's files as \"lua\" " ..
        "(curl -F lua=@flow.lua …/api/v2/blobs/, then files: {\"lua\": \"<blob id>\"})")
end
