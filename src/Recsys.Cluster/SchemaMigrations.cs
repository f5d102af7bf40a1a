namespace Recsys.Cluster;

/// <summary>
/// The database schema, version by version. A released entry never changes; a change is a new entry. Version 3 is
/// what Orleans' ADO.NET clustering provider needs, written from its documented contract: an <c>OrleansQuery</c> table
/// of named queries the provider reads at start, and the tables those queries use. The provider binds parameters
/// by name (<c>@DeploymentId</c>, <c>@Address</c>, ...), reads columns by name, and treats the table version as an
/// optimistic-concurrency ETag: a membership write lands only at the version the writer read, and bumps it.
/// </summary>
public static class SchemaMigrations
{
    /// <summary>SiloStatus.Dead in Orleans' membership table.</summary>
    private const int DeadStatus = 6;

    public static IReadOnlyList<string> Versions { get; } =
    [
        """
        CREATE TABLE recsys_user_state (
            user_id text PRIMARY KEY,
            version bigint NOT NULL,
            data bytea NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now())
        """,
        """
        CREATE TABLE recsys_items (
            item_id text PRIMARY KEY,
            data bytea NOT NULL,
            revision bigserial NOT NULL)
        """,
        OrleansMembership(),
    ];

    private static string OrleansMembership()
    {
        // Columns come back under the names the provider asks for; the member columns are null when a deployment has
        // no member yet (the version row alone tells the provider the table exists).
        const string memberColumns = """
            v.version AS "Version", m.address AS "Address", m.port AS "Port", m.generation AS "Generation",
            m.silo_name AS "SiloName", m.host_name AS "HostName", m.status AS "Status", m.proxy_port AS "ProxyPort",
            m.suspect_times AS "SuspectTimes", m.start_time AS "StartTime", m.i_am_alive_time AS "IAmAliveTime"
            """;
        const string thisSilo = "m.address = @Address AND m.port = @Port AND m.generation = @Generation";
        // A write takes the version row's lock at the version read; a writer that lost the race finds no row and
        // changes nothing, so the member change and the version bump land together or not at all.
        const string lockedVersion = """
            locked AS (SELECT deployment_id FROM orleans_membership_version
                       WHERE deployment_id = @DeploymentId AND version = @Version FOR UPDATE)
            """;
        const string bump = """
            bumped AS (UPDATE orleans_membership_version v SET version = v.version + 1, changed_at = now()
                       FROM changed c WHERE v.deployment_id = c.deployment_id RETURNING 1)
            SELECT count(*) > 0 FROM bumped
            """;
        var queries = new Dictionary<string, string>
        {
            ["InsertMembershipVersionKey"] = """
                WITH inserted AS (INSERT INTO orleans_membership_version (deployment_id) VALUES (@DeploymentId)
                                  ON CONFLICT DO NOTHING RETURNING 1)
                SELECT count(*) > 0 FROM inserted
                """,
            ["MembershipReadAllKey"] = $"""
                SELECT {memberColumns}
                FROM orleans_membership_version v
                LEFT JOIN orleans_membership m ON m.deployment_id = v.deployment_id
                WHERE v.deployment_id = @DeploymentId
                """,
            ["MembershipReadRowKey"] = $"""
                SELECT {memberColumns}
                FROM orleans_membership_version v
                LEFT JOIN orleans_membership m ON m.deployment_id = v.deployment_id AND {thisSilo}
                WHERE v.deployment_id = @DeploymentId
                """,
            ["InsertMembershipKey"] = $"""
                WITH {lockedVersion},
                changed AS (
                    INSERT INTO orleans_membership (deployment_id, address, port, generation, silo_name, host_name, status,
                                                    proxy_port, start_time, i_am_alive_time)
                    SELECT deployment_id, @Address, @Port, @Generation, @SiloName, @HostName, @Status, @ProxyPort,
                           @StartTime, @IAmAliveTime
                    FROM locked
                    ON CONFLICT DO NOTHING
                    RETURNING deployment_id),
                {bump}
                """,
            ["UpdateMembershipKey"] = $"""
                WITH {lockedVersion},
                changed AS (
                    UPDATE orleans_membership m
                    SET status = @Status, suspect_times = @SuspectTimes, i_am_alive_time = @IAmAliveTime
                    FROM locked l
                    WHERE m.deployment_id = l.deployment_id AND {thisSilo}
                    RETURNING m.deployment_id),
                {bump}
                """,
            ["UpdateIAmAlivetimeKey"] = $"""
                UPDATE orleans_membership m SET i_am_alive_time = @IAmAliveTime
                WHERE m.deployment_id = @DeploymentId AND {thisSilo}
                """,
            ["GatewaysQueryKey"] = """
                SELECT address AS "Address", proxy_port AS "ProxyPort", generation AS "Generation"
                FROM orleans_membership
                WHERE deployment_id = @DeploymentId AND status = @Status AND proxy_port > 0
                """,
            // The members go with their version row (ON DELETE CASCADE).
            ["DeleteMembershipTableEntriesKey"] = """
                DELETE FROM orleans_membership_version WHERE deployment_id = @DeploymentId
                """,
            ["CleanupDefunctSiloEntriesKey"] = $"""
                DELETE FROM orleans_membership
                WHERE deployment_id = @DeploymentId AND i_am_alive_time < @IAmAliveTime AND status = {DeadStatus}
                """,
            ["CleanupDefunctSiloEntryKey"] = $"""
                DELETE FROM orleans_membership m
                WHERE m.deployment_id = @DeploymentId AND {thisSilo} AND m.status = {DeadStatus}
                  AND m.start_time = @StartTime AND m.i_am_alive_time = @IAmAliveTime
                """,
        };
        var rows = string.Join(",\n", queries.Select(static q => $"('{q.Key}', {Quote(q.Value)})"));
        return $"""
            CREATE TABLE orleans_membership_version (
                deployment_id text PRIMARY KEY,
                version integer NOT NULL DEFAULT 0,
                changed_at timestamptz NOT NULL DEFAULT now());
            CREATE TABLE orleans_membership (
                deployment_id text NOT NULL REFERENCES orleans_membership_version ON DELETE CASCADE,
                address text NOT NULL,
                port integer NOT NULL,
                generation integer NOT NULL,
                silo_name text NOT NULL,
                host_name text NOT NULL,
                status integer NOT NULL,
                proxy_port integer,
                suspect_times text,
                start_time timestamp NOT NULL,
                i_am_alive_time timestamp NOT NULL,
                PRIMARY KEY (deployment_id, address, port, generation));
            CREATE TABLE OrleansQuery (QueryKey text PRIMARY KEY, QueryText text NOT NULL);
            INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
            {rows};
            """;
    }

    private static string Quote(string text) => "'" + text.Replace("'", "''", StringComparison.Ordinal) + "'";
}
